// replication/replica_client.cc: following a primary (see the header).
#include "replication/replica_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "persistence/mutation_codec.h"
#include "replication/socket_io.h"
#include "replication/stream_format.h"

namespace attrib::replication {

struct ReplicaClient::Impl {
  Impl(Follower* follower, std::function<uint64_t()> local_durable_seq,
       ReplicaClientOptions options)
      : follower(follower), local_durable(std::move(local_durable_seq)),
        options(std::move(options)) {
    status.epoch = this->options.epoch;
  }

  void Run();
  // One connection, until it fails; OK only when stopping.
  absl::Status Session();
  absl::Status Handle(const Frame& f);
  void AckLoop(int fd, const bool* session_over);
  // After a frame from the primary: applied everything it has durable?
  void NoteCaughtUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (status.applied_seq >= status.primary_durable_seq) status.caught_up_at = absl::Now();
  }

  Follower* const follower;
  const std::function<uint64_t()> local_durable;
  const ReplicaClientOptions options;
  StopSignal stop;
  std::thread thread;

  mutable absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool started ABSL_GUARDED_BY(mu) = false;
  uint64_t ack_wanted ABSL_GUARDED_BY(mu) = 0;
  bool give_up ABSL_GUARDED_BY(mu) = false;  // A refusal that retrying cannot cure.  // Bumped when there is news to ack.
  ReplicaStatus status ABSL_GUARDED_BY(mu);
};

void ReplicaClient::Impl::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  for (;;) {
    absl::Status s = Session();
    absl::MutexLock lock(&mu);
    status.connected = false;
    if (stopping) return;
    status.last_error = std::string(s.message());
    ++status.reconnects;
    status.stopped_retrying = give_up;  // With last_error, in one step.
    if (status.stopped_retrying) {
      log::Error("replication: stopped following %s: %s", options.primary, s.message());
      return;
    }
    log::Warning("replication: %s: %s (retrying in %s)", options.primary, s.message(),
                 absl::FormatDuration(backoff));
    const auto stop_now = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return stopping; };
    if (mu.AwaitWithTimeout(absl::Condition(&stop_now), backoff)) return;
    backoff = std::min(backoff * 2, options.retry_max);
  }
}

absl::Status ReplicaClient::Impl::Session() {
  absl::StatusOr<int> fd = ConnectTcp(options.primary, absl::Seconds(5), stop);
  if (!fd.ok()) return fd.status();
  uint64_t epoch;
  {
    absl::MutexLock lock(&mu);
    epoch = status.epoch;
  }
  std::string out;
  AppendFrame(FrameType::kHello, PairBody(follower->next_seq(), epoch), &out);
  FrameReader reader(options.max_frame_bytes);
  absl::Status s = WriteAll(*fd, out, absl::Seconds(5), stop);
  bool session_over = false;
  std::thread acks;
  while (s.ok()) {
    absl::StatusOr<Frame> f = ReadFrame(*fd, &reader, options.heartbeat_timeout, stop);
    if (!f.ok()) {
      s = f.status();
      if (s.code() == absl::StatusCode::kDeadlineExceeded) {
        s = absl::UnavailableError(absl::StrCat("no word from the primary in ",
                                                absl::FormatDuration(options.heartbeat_timeout)));
      }
      break;
    }
    const bool first = !acks.joinable();
    if (first && f->type != FrameType::kWelcome && f->type != FrameType::kRefused) {
      s = absl::InvalidArgumentError("replication: the primary did not start with a welcome");
      break;
    }
    s = Handle(*f);
    if (s.ok() && first) acks = std::thread([&] { AckLoop(*fd, &session_over); });
  }
  {
    absl::MutexLock lock(&mu);
    session_over = true;
  }
  ::shutdown(*fd, SHUT_RDWR);
  if (acks.joinable()) acks.join();
  ::close(*fd);
  return s;
}

absl::Status ReplicaClient::Impl::Handle(const Frame& f) {
  uint64_t a = 0, b = 0;
  switch (f.type) {
    case FrameType::kWelcome: {
      absl::StatusOr<Welcome> w = ParseWelcome(f);
      if (!w.ok()) return w.status();
      absl::MutexLock lock(&mu);
      if (w->epoch < status.epoch) {
        give_up = true;
        return absl::FailedPreconditionError(
            absl::StrCat("the primary's epoch ", w->epoch, " is older than the epoch ",
                         status.epoch, " this replica has followed (an old primary)"));
      }
      if (w->epoch > status.epoch && options.on_epoch) {
        // Remembered before anything of that epoch is applied (fencing survives a
        // restart). Under mu: the callback only writes a small file.
        if (absl::Status s = options.on_epoch(w->epoch); !s.ok()) return s;
      }
      status.epoch = w->epoch;
      status.primary_durable_seq = std::max(status.primary_durable_seq, w->durable_seq);
      if (!w->client_address.empty()) status.primary_client_address = w->client_address;
      if (!w->http_address.empty()) status.primary_http_address = w->http_address;
      status.connected = true;
      status.last_error.clear();
      NoteCaughtUp();
      return absl::OkStatus();
    }
    case FrameType::kHeartbeat: {
      if (absl::Status s = ParsePair(f, &a, &b); !s.ok()) return s;
      absl::MutexLock lock(&mu);
      status.primary_durable_seq = std::max(status.primary_durable_seq, a);
      NoteCaughtUp();
      ++ack_wanted;
      return absl::OkStatus();
    }
    case FrameType::kRecords: {
      absl::StatusOr<std::vector<ShippedRecord>> records = ParseRecords(f.body);
      if (!records.ok()) return records.status();
      for (const ShippedRecord& r : *records) {
        absl::StatusOr<engine::Mutation> m = persistence::DecodeMutation(r.payload);
        if (!m.ok()) {
          return absl::DataLossError(absl::StrCat("replication: record ", r.seq,
                                                  " does not decode: ", m.status().message()));
        }
        if (absl::Status s = follower->Apply(r.seq, *m); !s.ok()) return s;
      }
      absl::MutexLock lock(&mu);
      if (!records->empty()) {
        status.primary_durable_seq = std::max(status.primary_durable_seq, records->back().seq);
      }
      status.applied_seq = follower->next_seq() - 1;
      NoteCaughtUp();
      ++ack_wanted;
      return absl::OkStatus();
    }
    case FrameType::kRefused: {
      const RefusedReason reason =
          f.body.empty() ? RefusedReason::kError : static_cast<RefusedReason>(f.body[0]);
      const std::string message = f.body.empty() ? "" : f.body.substr(1);
      absl::MutexLock lock(&mu);
      if (reason == RefusedReason::kStaleEpoch || reason == RefusedReason::kNeedSnapshot ||
          reason == RefusedReason::kDiverged) {
        give_up = true;
      }
      return absl::FailedPreconditionError(absl::StrCat("the primary refused: ", message));
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("replication: unexpected frame type ", static_cast<int>(f.type)));
  }
}

void ReplicaClient::Impl::AckLoop(int fd, const bool* session_over) {
  uint64_t acked = 0;
  std::string out;
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      const auto news = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
        return stopping || *session_over || ack_wanted != acked;
      };
      // At least one ack per half heartbeat timeout, so the primary sees a live replica.
      mu.AwaitWithTimeout(absl::Condition(&news), options.heartbeat_timeout / 2);
      if (stopping || *session_over) return;
      acked = ack_wanted;
    }
    out.clear();
    AppendFrame(FrameType::kAck, PairBody(local_durable(), follower->next_seq() - 1), &out);
    if (!WriteAll(fd, out, options.heartbeat_timeout, stop).ok()) return;
  }
}

ReplicaClient::ReplicaClient(Follower* follower, std::function<uint64_t()> local_durable_seq,
                             ReplicaClientOptions options)
    : impl_(std::make_unique<Impl>(follower, std::move(local_durable_seq), std::move(options))) {}

ReplicaClient::~ReplicaClient() { Shutdown(); }

void ReplicaClient::Start() {
  absl::MutexLock lock(&impl_->mu);
  if (impl_->started) return;
  impl_->started = true;
  impl_->status.applied_seq = impl_->follower->next_seq() - 1;
  impl_->status.caught_up_at = absl::Now();
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void ReplicaClient::NotifyDurable(uint64_t) {
  absl::MutexLock lock(&impl_->mu);
  ++impl_->ack_wanted;
}

ReplicaStatus ReplicaClient::Status() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->status;
}

bool ReplicaClient::WaitApplied(uint64_t seq, absl::Duration timeout) const {
  absl::MutexLock lock(&impl_->mu);
  const auto applied = [this, seq]() ABSL_SHARED_LOCKS_REQUIRED(impl_->mu) {
    return impl_->status.applied_seq >= seq || impl_->stopping;
  };
  impl_->mu.AwaitWithTimeout(absl::Condition(&applied), timeout);
  return impl_->status.applied_seq >= seq;
}

void ReplicaClient::Shutdown() {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->stop.Notify();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace attrib::replication
