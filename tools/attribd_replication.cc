// tools/attribd_replication.cc: attribd's replication flags and wiring (see the
// header).
#include "tools/attribd_replication.h"

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "replication/bootstrap.h"

ABSL_FLAG(std::string, replication_listen, "",
          "host:port where replicas connect to follow this node's log (empty: none). "
          "Loopback or a private network: the stream carries every change unencrypted "
          "and unauthenticated.");
ABSL_FLAG(std::string, replica_of, "",
          "host:port of a primary's --replication_listen: run as its replica (follow its "
          "log, serve reads, refuse writes). Empty: this node is a primary.");
ABSL_FLAG(uint32_t, sync_replicas, 0,
          "With --replication_listen: acknowledge a write only once this many replicas "
          "have also made it durable (0: asynchronous replication; a failover can then "
          "lose the writes acknowledged but not yet on the new primary).");
ABSL_FLAG(uint32_t, replication_max_replicas, 8,
          "Replicas that may follow this node at once: each costs two threads and a "
          "log reader.");
ABSL_FLAG(uint32_t, replication_max_frame_bytes, 4 << 20,
          "Largest replication frame sent or accepted: bounds the memory a peer can make "
          "this node allocate (one log record is at most 1 MiB).");
ABSL_FLAG(absl::Duration, replication_heartbeat, absl::Milliseconds(500),
          "A primary with nothing new sends a heartbeat this often, so a replica knows "
          "its lag and tells a quiet primary from a lost connection.");
ABSL_FLAG(absl::Duration, replication_timeout, absl::Seconds(5),
          "A replica that hears nothing from its primary for this long reconnects.");
ABSL_FLAG(absl::Duration, replication_retry_max, absl::Seconds(5),
          "Longest wait between a replica's reconnection attempts (the wait starts at "
          "100 ms and doubles).");

namespace attrib::tools {

absl::Status AttribdReplication::Configure(persistence::DurabilityOptions* options) {
  listen_ = absl::GetFlag(FLAGS_replication_listen);
  replica_of_ = absl::GetFlag(FLAGS_replica_of);
  const uint32_t max_frame = absl::GetFlag(FLAGS_replication_max_frame_bytes);
  if (max_frame < (2u << 20) + 64) {
    return absl::InvalidArgumentError(
        "replication_max_frame_bytes: must be >= 2 MiB + 64 (a frame holds at least one "
        "1 MiB log record, and frames are filled to half the limit)");
  }
  if (absl::GetFlag(FLAGS_replication_max_replicas) == 0) {
    return absl::InvalidArgumentError("replication_max_replicas: must be >= 1");
  }
  sync_replicas_ = absl::GetFlag(FLAGS_sync_replicas);
  if (sync_replicas_ > 0 && listen_.empty()) {
    return absl::InvalidArgumentError(
        "sync_replicas: needs --replication_listen (replicas to wait for)");
  }
  if (sync_replicas_ > absl::GetFlag(FLAGS_replication_max_replicas)) {
    return absl::InvalidArgumentError(
        "sync_replicas: more than --replication_max_replicas (no write could be acknowledged)");
  }
  const absl::Duration heartbeat = absl::GetFlag(FLAGS_replication_heartbeat);
  const absl::Duration timeout = absl::GetFlag(FLAGS_replication_timeout);
  if (heartbeat <= absl::ZeroDuration() || timeout <= heartbeat * 2) {
    return absl::InvalidArgumentError(
        "replication_heartbeat must be > 0 and replication_timeout more than twice it");
  }
  shipper_options_.listen = listen_;
  shipper_options_.wal_dir = absl::StrCat(options->data_dir, "/wal");
  shipper_options_.archive_dir = options->wal_archive;
  shipper_options_.snapshot_dir = absl::StrCat(options->data_dir, "/snapshots");
  shipper_options_.max_replicas = absl::GetFlag(FLAGS_replication_max_replicas);
  shipper_options_.max_frame_bytes = max_frame;
  shipper_options_.heartbeat = heartbeat;
  if (sync_replicas_ > 0) shipper_options_.on_ack = [this] { Publish(); };
  client_options_.primary = replica_of_;
  client_options_.max_frame_bytes = max_frame;
  client_options_.heartbeat_timeout = timeout;
  client_options_.retry_max = absl::GetFlag(FLAGS_replication_retry_max);
  if (is_replica()) options->capture_gate = &gate_;
  return absl::OkStatus();
}

absl::Status AttribdReplication::Bootstrap(persistence::FileSystem* fs,
                                           const persistence::DataDir& dir) {
  if (!is_replica()) return absl::OkStatus();
  absl::StatusOr<replication::BootstrapReport> r =
      replication::BootstrapIfNeeded(fs, dir, client_options_);
  if (!r.ok()) {
    return absl::Status(r.status().code(),
                        absl::StrCat("replica_of: starting from the primary's snapshot: ",
                                     r.status().message()));
  }
  if (r->copied) log::Info("replication: %s", r->note);
  return absl::OkStatus();
}

absl::Status AttribdReplication::Start(persistence::FileSystem* fs,
                                       persistence::Durability* durability,
                                       engine::Engine* engine) {
  if (!listen_.empty()) {
    shipper_ = std::make_unique<replication::LogShipper>(
        fs, [durability] { return durability->durable_seq(); }, shipper_options_);
    if (absl::Status s = shipper_->Start(); !s.ok()) return s;
  }
  if (is_replica()) {
    follower_ = std::make_unique<replication::Follower>(engine, durability, &gate_);
    client_ = std::make_unique<replication::ReplicaClient>(
        follower_.get(), [durability] { return durability->durable_seq(); }, client_options_);
    client_->Start();
  }
  return absl::OkStatus();
}

absl::Status AttribdReplication::CanWrite() const {
  if (!is_replica()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "not_primary: this attribd is a replica of ", replica_of_,
      " (--replica_of); send writes to the primary"));
}

void AttribdReplication::OnLocalDurable(uint64_t seq) {
  uint64_t cur = local_durable_.load();
  while (seq > cur && !local_durable_.compare_exchange_weak(cur, seq)) {
  }
  if (shipper_ != nullptr) shipper_->NotifyDurable(seq);
  if (client_ != nullptr) client_->NotifyDurable(seq);
  Publish();
}

uint64_t AttribdReplication::AcknowledgedSeq() const {
  const uint64_t local = local_durable_.load();
  if (sync_replicas_ == 0) return local;
  const uint64_t replicas = shipper_ == nullptr ? 0 : shipper_->DurableOnReplicas(sync_replicas_);
  return std::min(local, replicas);
}

void AttribdReplication::SetDurableSink(std::function<void(uint64_t)> sink) {
  {
    absl::MutexLock lock(&publish_mu_);
    sink_ = std::move(sink);
  }
  Publish();
}

void AttribdReplication::Publish() {
  absl::MutexLock lock(&publish_mu_);
  const uint64_t acked = AcknowledgedSeq();
  if (acked <= published_ && published_ != 0) return;
  published_ = std::max(published_, acked);
  if (sink_) sink_(published_);
}

void AttribdReplication::WriteMetrics(metrics::MetricsText& m) const {
  m.Gauge("attrib_replication_is_replica", "1 on a replica (--replica_of), 0 on a primary.",
          is_replica() ? 1 : 0);
  if (client_ != nullptr) {
    const replication::ReplicaStatus st = client_->Status();
    m.Gauge("attrib_replication_connected",
            "1 while this replica is connected to its primary and following.",
            st.connected ? 1 : 0);
    m.Gauge("attrib_replication_lag_records",
            "Records the primary has made durable that this replica has not applied yet "
            "(as of the primary's last word: records or heartbeat).",
            static_cast<double>(st.primary_durable_seq > st.applied_seq
                                    ? st.primary_durable_seq - st.applied_seq
                                    : 0));
    m.Gauge("attrib_replication_applied_seq", "The last log record this replica applied.",
            static_cast<double>(st.applied_seq));
    m.Counter("attrib_replication_reconnects_total",
              "Times the connection to the primary was lost or refused.", st.reconnects);
    m.Gauge("attrib_replication_stopped", "1 when this replica stopped following for good "
            "(a refusal retrying cannot cure; the log line says why).",
            st.stopped_retrying ? 1 : 0);
  }
  if (shipper_ != nullptr) {
    const std::vector<replication::ReplicaInfo> replicas = shipper_->Replicas();
    m.Gauge("attrib_replication_replicas", "Replicas following this node now.",
            static_cast<double>(replicas.size()));
    m.Gauge("attrib_replication_sync_replicas", "--sync_replicas: replicas a write waits for.",
            sync_replicas_);
    m.Gauge("attrib_replication_acknowledged_seq",
            "The last log record a write's reply may count as durable (with "
            "--sync_replicas: durable here and on that many replicas).",
            static_cast<double>(AcknowledgedSeq()));
    constexpr char kLag[] = "attrib_replication_replica_lag_records";
    m.Family(kLag, metrics::MetricType::kGauge,
             "Per replica: records sent that it has not acknowledged as durable yet.");
    for (const replication::ReplicaInfo& r : replicas) {
      m.Sample(kLag, {{"replica", r.peer}},
               static_cast<double>(r.sent_seq > r.durable_seq ? r.sent_seq - r.durable_seq : 0));
    }
  }
}

std::string AttribdReplication::Describe() const {
  std::string out;
  if (shipper_ != nullptr) absl::StrAppend(&out, ", replication on ", shipper_->bound_address());
  if (sync_replicas_ > 0) absl::StrAppend(&out, ", sync replicas ", sync_replicas_);
  if (is_replica()) absl::StrAppend(&out, ", replica of ", replica_of_);
  return out;
}

void AttribdReplication::Shutdown() {
  // The follower stops applying before the log closes; the shipper's readers go.
  if (client_ != nullptr) client_->Shutdown();
  if (shipper_ != nullptr) shipper_->Shutdown();
}

}  // namespace attrib::tools
