// replication/stream_format.h
//
// The replication stream's wire format, defined once here (issue 16). A replica
// opens a TCP connection to the primary's --replication_listen address and the two
// exchange frames. All integers are little-endian.
//
//   Frame (kFrameHeaderBytes = 9, then the body):
//     0  1  type (FrameType)
//     1  4  body length N (<= the reader's limit, --replication_max_frame_bytes)
//     5  4  masked CRC32C of the body
//     9  N  body
//
//   replica -> primary
//     kHello      u64 from_seq (the first record the replica needs), u64 epoch (the
//                 highest primary epoch the replica has followed; 0: none)
//     kAck        u64 durable_seq (fdatasync'ed in the replica's log), u64 applied_seq
//     kSnapshotRequest  (empty; instead of a hello) send me your newest snapshot
//   primary -> replica
//     kWelcome    u64 epoch, u64 durable_seq: the stream follows; then (issue 16,
//                 optional: a 16-byte welcome is still read) the primary's client
//                 addresses as UTF-8 "native\nhttp" (its --listen and --http_listen
//                 as bound; either may be empty), which a replica names in its
//                 not_primary errors
//     kRecords    log records exactly as in the write-ahead log (persistence/
//                 log_format.h: length, masked CRC of seq + payload, seq, payload),
//                 consecutive sequence numbers, only durable ones
//     kHeartbeat  u64 durable_seq, i64 now_ms: sent when there is nothing new, so a
//                 replica can tell a quiet primary from a dead connection and knows
//                 its lag
//     kRefused    u8 RefusedReason, then a UTF-8 message; the primary closes
//     kSnapshotChunk    the next bytes of the snapshot file
//     kSnapshotEnd      the file's name (snapshot-<oldest fence>.snap); the primary
//                       closes. The replica then asks for the records from the
//                       snapshot's oldest fence + 1 (replication/bootstrap.h).
//
// Why a separate listener and not the client protocol: the stream is long-lived,
// one-way and binary (log records are shipped as they are on disk and verified with
// the same CRC), as PostgreSQL's walsender is beside its query protocol.
//
// Thread-safety: pure functions; a FrameReader belongs to one thread.
#ifndef ATTRIB_REPLICATION_STREAM_FORMAT_H_
#define ATTRIB_REPLICATION_STREAM_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attrib::replication {

enum class FrameType : uint8_t {
  kHello = 1,
  kAck = 2,
  kWelcome = 3,
  kRecords = 4,
  kHeartbeat = 5,
  kRefused = 6,
  kSnapshotRequest = 7,
  kSnapshotChunk = 8,
  kSnapshotEnd = 9,
};

enum class RefusedReason : uint8_t {
  // The replica needs records older than the primary's log keeps: it must start
  // from a snapshot.
  kNeedSnapshot = 1,
  // The replica has followed a primary of a higher epoch: this one is stale.
  kStaleEpoch = 2,
  // Over --replication_max_replicas.
  kTooManyReplicas = 3,
  // Anything else (the message says what).
  kError = 4,
  // The replica followed an older epoch past the record where this primary's own
  // epoch began (an old primary's unreplicated tail): it must start over empty.
  kDiverged = 5,
};

inline constexpr size_t kFrameHeaderBytes = 9;

struct Frame {
  FrameType type = FrameType::kHello;
  std::string body;
};

void AppendFrame(FrameType type, absl::string_view body, std::string* out);
// Two u64 values as a body (kHello, kAck, kWelcome, kHeartbeat).
std::string PairBody(uint64_t a, uint64_t b);
// InvalidArgument naming the frame when the body is not 16 bytes.
absl::Status ParsePair(const Frame& f, uint64_t* a, uint64_t* b);
std::string RefusedBody(RefusedReason reason, absl::string_view message);

struct Welcome {
  uint64_t epoch = 0;
  uint64_t durable_seq = 0;
  std::string client_address;  // The primary's --listen ("" if not sent).
  std::string http_address;    // Its --http_listen ("" if none or not sent).
};
std::string WelcomeBody(const Welcome& w);
// InvalidArgument when shorter than 16 bytes.
absl::StatusOr<Welcome> ParseWelcome(const Frame& f);

// Splits a byte stream into frames. Feed() what arrived; Next() returns the next
// whole frame, nullopt-like false when more bytes are needed, or an error (a frame
// over `max_body_bytes`, an unknown type, a bad CRC) after which the connection
// must be closed.
class FrameReader {
 public:
  explicit FrameReader(size_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}
  void Feed(absl::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }
  absl::StatusOr<bool> Next(Frame* frame);

 private:
  const size_t max_body_bytes_;
  std::string buffer_;
  size_t start_ = 0;
};

struct ShippedRecord {
  uint64_t seq = 0;
  absl::string_view payload;  // Into the frame's body.
};
// The records of a kRecords body, each verified (length, CRC) and consecutive;
// DataLoss naming the record's offset in the frame otherwise.
absl::StatusOr<std::vector<ShippedRecord>> ParseRecords(absl::string_view body);

}  // namespace attrib::replication

#endif  // ATTRIB_REPLICATION_STREAM_FORMAT_H_
