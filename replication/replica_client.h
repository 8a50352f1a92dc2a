// replication/replica_client.h
//
// The replica's connection to its primary (issue 16): connects to the primary's
// --replication_listen address, asks for the records after its own log's end, feeds
// each to the Follower, and acknowledges what its log has made durable and what it
// has applied (after each batch, on each heartbeat, and when the local log reports
// a commit). A lost connection is retried with exponential backoff (100 ms doubling
// to --replication_retry_max) from wherever the local log ends, so nothing is
// applied twice or skipped.
//
// Refusals end the retries only when retrying cannot help: kStaleEpoch (the replica
// has followed a newer primary: this address is an old one), kNeedSnapshot (the
// primary's log no longer reaches back) and kDiverged (this replica's log has an old
// primary's records the new primary never had). The state says why (Status()).
//
// Fencing: the replica remembers the highest epoch it has followed (from kWelcome)
// and sends it in every hello; it drops a primary whose welcome carries a lower
// epoch.
//
// Thread-safety: Start() once; NotifyDurable(), Status(), WaitApplied() and Shutdown() (idempotent,
// joins; also run by the destructor) from any thread.
#ifndef ATTRIB_REPLICATION_REPLICA_CLIENT_H_
#define ATTRIB_REPLICATION_REPLICA_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "replication/follower.h"

namespace attrib::replication {

struct ReplicaClientOptions {
  std::string primary;                           // host:port of --replication_listen.
  uint64_t epoch = 0;                            // The highest epoch followed so far.
  size_t max_frame_bytes = 4 << 20;              // --replication_max_frame_bytes.
  absl::Duration heartbeat_timeout = absl::Seconds(5);  // Silence that drops the primary.
  absl::Duration retry_max = absl::Seconds(5);   // --replication_retry_max.
  // Called (on the client's thread) when a primary of a higher epoch welcomes it,
  // before anything of that epoch is applied: attribd records it in
  // DATA/replication_epoch. An error drops the connection. Null: none.
  std::function<absl::Status(uint64_t epoch)> on_epoch;
};

struct ReplicaStatus {
  bool connected = false;
  bool stopped_retrying = false;  // A refusal that retrying cannot cure.
  uint64_t epoch = 0;             // Of the primary followed.
  uint64_t primary_durable_seq = 0;  // As last heard (welcome, records, heartbeat).
  uint64_t applied_seq = 0;       // The local log's last record.
  uint64_t reconnects = 0;
  std::string last_error;         // Empty: none since the last good connection.
  // The primary's client addresses from its welcome (stream_format.h); empty until
  // a welcome named them.
  std::string primary_client_address;
  std::string primary_http_address;
  // The last time the replica knew it had applied everything the primary had made
  // durable (a frame from the primary after which applied_seq >= primary_durable_seq;
  // at the latest, every heartbeat of a connected, caught-up replica). Start() sets
  // it to the start time. The lag in time is now - this.
  absl::Time caught_up_at = absl::InfinitePast();
};

class ReplicaClient {
 public:
  // `follower` and `local_durable_seq()` (the local log's durable sequence number)
  // must outlive the client.
  ReplicaClient(Follower* follower, std::function<uint64_t()> local_durable_seq,
                ReplicaClientOptions options);
  ~ReplicaClient();
  ReplicaClient(const ReplicaClient&) = delete;
  ReplicaClient& operator=(const ReplicaClient&) = delete;

  void Start();
  // The local log is durable up to `seq`: acknowledge it now.
  void NotifyDurable(uint64_t seq);
  ReplicaStatus Status() const;
  // Waits until the replica has applied `seq`, at most `timeout`; returns whether it
  // has (read-your-writes: a read's min_seq). Any thread.
  bool WaitApplied(uint64_t seq, absl::Duration timeout) const;
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_REPLICA_CLIENT_H_
