// tools/attribd_replication.cc: attribd's replication flags and wiring (see the
// header).
#include "tools/attribd_replication.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "common/not_primary.h"
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
ABSL_FLAG(std::string, primary_client_address, "",
          "On a replica: the primary's client address (host:port of its --listen) that "
          "not_primary errors name, instead of the one the primary's replication welcome "
          "carries (its --listen as bound, useless when that is 0.0.0.0 or behind NAT).");
ABSL_FLAG(std::string, primary_http_address, "",
          "On a replica: the primary's HTTP API address (host:port) that 421 not_primary "
          "answers name, instead of the one the primary's welcome carries.");
ABSL_FLAG(absl::Duration, replica_read_wait, absl::Milliseconds(200),
          "On a replica: how long a native-protocol read with min_seq (read-your-writes) "
          "may wait for the replica to apply that record before it is refused with "
          "unavailable. The wait holds a server thread and so delays the other "
          "connections it serves: keep it short (the HTTP API never waits).");
ABSL_FLAG(std::string, max_replica_lag, "",
          "On a replica: refuse reads with unavailable while it is further behind its "
          "primary than this: a number of records (\"1000\") or a time since it was last "
          "caught up (\"2s\", more than --replication_heartbeat). Empty: serve reads "
          "however stale.");

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
  data_dir_ = options->data_dir;
  primary_client_address_ = absl::GetFlag(FLAGS_primary_client_address);
  primary_http_address_ = absl::GetFlag(FLAGS_primary_http_address);
  read_wait_ = absl::GetFlag(FLAGS_replica_read_wait);
  if (read_wait_ < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("replica_read_wait: must be >= 0");
  }
  max_lag_text_ = absl::GetFlag(FLAGS_max_replica_lag);
  if (!max_lag_text_.empty()) {
    if (absl::SimpleAtoi(max_lag_text_, &max_lag_records_)) {
      if (max_lag_records_ == 0) {
        return absl::InvalidArgumentError("max_replica_lag: must be > 0 records");
      }
    } else if (!absl::ParseDuration(max_lag_text_, &max_lag_time_) ||
               max_lag_time_ <= heartbeat) {
      return absl::InvalidArgumentError(absl::StrCat(
          "max_replica_lag: '", max_lag_text_,
          "' is neither a number of records nor a duration longer than "
          "--replication_heartbeat (a caught-up replica hears from its primary only that "
          "often)"));
    }
  }
  {
    absl::StatusOr<replication::EpochRecord> epoch =
        replication::ReadEpochFile(persistence::PosixFileSystem(), data_dir_);
    if (!epoch.ok()) return epoch.status();
    absl::MutexLock lock(&promote_mu_);
    epoch_ = *epoch;
    shipper_options_.epoch = epoch->epoch;
    shipper_options_.epoch_start_seq = epoch->start_seq;
    client_options_.epoch = epoch->epoch;
  }
  client_options_.on_epoch = [this](uint64_t epoch) {
    absl::MutexLock lock(&promote_mu_);
    if (epoch <= epoch_.epoch) return absl::OkStatus();
    const replication::EpochRecord next{epoch, 0};
    if (absl::Status s = replication::WriteEpochFile(persistence::PosixFileSystem(), data_dir_,
                                                     next);
        !s.ok()) {
      return s;
    }
    epoch_ = next;
    return absl::OkStatus();
  };
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
  fs_ = fs;
  durability_ = durability;
  if (is_replica()) {
    follower_ = std::make_unique<replication::Follower>(engine, durability, &gate_);
    client_ = std::make_unique<replication::ReplicaClient>(
        follower_.get(), [durability] { return durability->durable_seq(); }, client_options_);
    client_->Start();
  }
  return absl::OkStatus();
}

absl::Status AttribdReplication::StartListener(const std::string& client_address,
                                               const std::string& http_address) {
  if (listen_.empty()) return absl::OkStatus();
  shipper_options_.client_address = client_address;
  shipper_options_.http_address = http_address;
  // Under the promotion lock: a promotion (the servers run already) either raised
  // the epoch before, or finds the published shipper and raises its epoch.
  absl::MutexLock lock(&promote_mu_);
  shipper_options_.epoch = epoch_.epoch;
  shipper_options_.epoch_start_seq = epoch_.start_seq;
  persistence::Durability* d = durability_;
  shipper_ = std::make_unique<replication::LogShipper>(
      fs_, [d] { return d->durable_seq(); }, shipper_options_);
  if (absl::Status s = shipper_->Start(); !s.ok()) return s;
  shipper_ptr_.store(shipper_.get());
  shipper_->NotifyDurable(local_durable_.load());
  return absl::OkStatus();
}

absl::Status AttribdReplication::CanWrite() const {
  if (!is_replica()) return absl::OkStatus();
  PrimaryAddresses primary{primary_client_address_, primary_http_address_};
  if (client_ != nullptr && (primary.native.empty() || primary.http.empty())) {
    const replication::ReplicaStatus st = client_->Status();
    if (primary.native.empty()) primary.native = st.primary_client_address;
    if (primary.http.empty()) primary.http = st.primary_http_address;
  }
  return NotPrimaryError(
      absl::StrCat("not_primary: this attribd is a replica of ", replica_of_,
                   " (--replica_of); send writes to the primary",
                   primary.native.empty() ? " (its client address is not known yet)"
                                          : absl::StrCat(" at ", primary.native)),
      primary);
}

uint64_t AttribdReplication::LagRecords(const replication::ReplicaStatus& st) const {
  return st.primary_durable_seq > st.applied_seq ? st.primary_durable_seq - st.applied_seq : 0;
}

absl::Duration AttribdReplication::LagTime(const replication::ReplicaStatus& st) const {
  if (st.caught_up_at == absl::InfinitePast()) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), absl::Now() - st.caught_up_at);
}

absl::Status AttribdReplication::CanRead(uint64_t min_seq, bool may_wait) const {
  if (!is_replica() || client_ == nullptr) return absl::OkStatus();
  const absl::Duration wait = may_wait ? read_wait_ : absl::ZeroDuration();
  if (min_seq > 0 && !client_->WaitApplied(min_seq, wait)) {
    const replication::ReplicaStatus st = client_->Status();
    return absl::UnavailableError(absl::StrCat(
        "min_seq: this replica has applied up to record ", st.applied_seq,
        " and the read asks for at least ", min_seq,
        may_wait ? absl::StrCat(" (waited --replica_read_wait=", absl::FormatDuration(wait), ")")
                 : std::string(" (the HTTP API does not wait)"),
        "; read from the primary or retry"));
  }
  if (max_lag_records_ == 0 && max_lag_time_ == absl::ZeroDuration()) return absl::OkStatus();
  const replication::ReplicaStatus st = client_->Status();
  const uint64_t records = LagRecords(st);
  const absl::Duration time = LagTime(st);
  if ((max_lag_records_ > 0 && records > max_lag_records_) ||
      (max_lag_time_ > absl::ZeroDuration() && time > max_lag_time_)) {
    return absl::UnavailableError(absl::StrCat(
        "replica_lag: this replica is ", records, " records behind its primary and was last "
        "caught up ", absl::FormatDuration(absl::Trunc(time, absl::Milliseconds(1))),
        " ago, past --max_replica_lag=", max_lag_text_, "; read from the primary"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AttribdReplication::PromoteResult> AttribdReplication::Promote(bool force) {
  if (promoting_.exchange(true)) {
    return absl::FailedPreconditionError("promote: a promotion is under way already");
  }
  absl::Cleanup done = [this] { promoting_.store(false); };
  if (!is_replica() || client_ == nullptr) {
    return absl::FailedPreconditionError(
        "promote: this attribd is a primary already (not started with --replica_of, or "
        "promoted)");
  }
  replication::ReplicaStatus st = client_->Status();
  if (!force && st.applied_seq < st.primary_durable_seq) {
    return absl::FailedPreconditionError(absl::StrCat(
        "promote: this replica has applied up to record ", st.applied_seq,
        " but its primary had ", st.primary_durable_seq,
        " durable when last heard: promoting it would lose those; wait for it to catch up, "
        "or pass --force"));
  }
  client_->Shutdown();  // Nothing is applied from the old primary after this.
  st = client_->Status();
  PromoteResult r;
  r.applied_seq = st.applied_seq;
  r.primary_seq = st.primary_durable_seq;
  r.seq = durability_->last_assigned_seq();
  {
    absl::MutexLock lock(&promote_mu_);
    const replication::EpochRecord next{std::max(epoch_.epoch, st.epoch) + 1, r.seq + 1};
    if (absl::Status s = replication::WriteEpochFile(fs_, data_dir_, next); !s.ok()) {
      // Following has stopped; the node stays a replica that refuses writes.
      return absl::Status(s.code(), absl::StrCat("promote: ", s.message()));
    }
    epoch_ = next;
    r.epoch = next.epoch;
    if (replication::LogShipper* sh = shipper(); sh != nullptr) {
      sh->SetEpoch(next.epoch, next.start_seq);
    }
  }
  promoted_.store(true);
  log::Warning("promote: stopped following %s at record %d (it had %d durable when last "
               "heard); now the primary of epoch %d, writes from record %d on",
               replica_of_, r.applied_seq, r.primary_seq, r.epoch, r.seq + 1);
  return r;
}

void AttribdReplication::OnLocalDurable(uint64_t seq) {
  uint64_t cur = local_durable_.load();
  while (seq > cur && !local_durable_.compare_exchange_weak(cur, seq)) {
  }
  if (replication::LogShipper* sh = shipper(); sh != nullptr) sh->NotifyDurable(seq);
  if (client_ != nullptr) client_->NotifyDurable(seq);
  Publish();
}

uint64_t AttribdReplication::AcknowledgedSeq() const {
  const uint64_t local = local_durable_.load();
  if (sync_replicas_ == 0) return local;
  replication::LogShipper* sh = shipper();
  const uint64_t replicas = sh == nullptr ? 0 : sh->DurableOnReplicas(sync_replicas_);
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
  m.Gauge("attrib_replication_is_replica",
          "1 on a replica (--replica_of, not promoted), 0 on a primary.", is_replica() ? 1 : 0);
  {
    absl::MutexLock lock(&promote_mu_);
    m.Gauge("attrib_replication_epoch",
            "The highest epoch this node has followed or been promoted to (its fencing "
            "token; DATA/replication_epoch).",
            static_cast<double>(epoch_.epoch));
  }
  if (client_ != nullptr && is_replica()) {
    const replication::ReplicaStatus st = client_->Status();
    m.Gauge("attrib_replication_lag_seconds",
            "Seconds since this replica last knew it had applied everything its primary "
            "had durable (up to a heartbeat while caught up; grows while disconnected).",
            absl::ToDoubleSeconds(LagTime(st)));
    m.Gauge("attrib_replication_connected",
            "1 while this replica is connected to its primary and following.",
            st.connected ? 1 : 0);
    m.Gauge("attrib_replication_lag_records",
            "Records the primary has made durable that this replica has not applied yet "
            "(as of the primary's last word: records or heartbeat).",
            static_cast<double>(LagRecords(st)));
    m.Gauge("attrib_replication_applied_seq", "The last log record this replica applied.",
            static_cast<double>(st.applied_seq));
    m.Counter("attrib_replication_reconnects_total",
              "Times the connection to the primary was lost or refused.", st.reconnects);
    m.Gauge("attrib_replication_stopped", "1 when this replica stopped following for good "
            "(a refusal retrying cannot cure; the log line says why).",
            st.stopped_retrying ? 1 : 0);
  }
  if (replication::LogShipper* sh = shipper(); sh != nullptr) {
    const std::vector<replication::ReplicaInfo> replicas = sh->Replicas();
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
  if (replication::LogShipper* sh = shipper(); sh != nullptr) {
    absl::StrAppend(&out, ", replication on ", sh->bound_address());
  }
  if (sync_replicas_ > 0) absl::StrAppend(&out, ", sync replicas ", sync_replicas_);
  if (is_replica()) absl::StrAppend(&out, ", replica of ", replica_of_);
  {
    absl::MutexLock lock(&promote_mu_);
    if (epoch_.epoch > 0) absl::StrAppend(&out, ", epoch ", epoch_.epoch);
  }
  return out;
}

void AttribdReplication::Shutdown() {
  // The follower stops applying before the log closes; the shipper's readers go.
  if (client_ != nullptr) client_->Shutdown();
  if (shipper_ != nullptr) shipper_->Shutdown();
}

}  // namespace attrib::tools
