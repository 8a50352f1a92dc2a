// replication/log_shipper.cc: the primary's replication listener (see the header).
#include "replication/log_shipper.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <list>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "persistence/change_feed.h"
#include "persistence/log_format.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"
#include "replication/socket_io.h"
#include "replication/stream_format.h"

namespace attrib::replication {
namespace {

// How long a replica may stay silent (no hello, no ack) before it is dropped; it
// acknowledges at least once per heartbeat.
constexpr absl::Duration kPeerTimeout = absl::Seconds(10);
// Records per ChangeFeed read.
constexpr size_t kReadBatch = 4096;

}  // namespace

struct LogShipper::Impl {
  struct Peer {
    int fd = -1;
    ReplicaInfo info;  // Guarded by Impl::mu.
    std::thread thread;
    bool done = false;  // Guarded by Impl::mu.
  };

  Impl(persistence::FileSystem* fs, std::function<uint64_t()> durable_seq,
       LogShipperOptions options)
      : fs(fs), durable_seq(std::move(durable_seq)), options(std::move(options)) {}

  void AcceptLoop();
  void Serve(Peer* peer);
  // Sends records from `from` on until the connection ends.
  absl::Status Stream(Peer* peer, uint64_t from);
  // Sends the newest snapshot file.
  absl::Status SendSnapshot(Peer* peer);
  void Refuse(int fd, RefusedReason reason, absl::string_view message) {
    std::string out;
    AppendFrame(FrameType::kRefused, RefusedBody(reason, message), &out);
    (void)WriteAll(fd, out, absl::Seconds(1), stop);
  }

  persistence::FileSystem* const fs;
  const std::function<uint64_t()> durable_seq;
  const LogShipperOptions options;
  StopSignal stop;
  int listen_fd = -1;
  std::string bound;
  std::thread accept_thread;
  std::atomic<uint64_t> epoch{0};
  std::atomic<uint64_t> epoch_start{0};

  mutable absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  uint64_t durable ABSL_GUARDED_BY(mu) = 0;
  std::list<Peer> peers ABSL_GUARDED_BY(mu);
};

void LogShipper::Impl::AcceptLoop() {
  for (;;) {
    std::string peer_address;
    absl::StatusOr<int> fd = AcceptTcp(listen_fd, stop, &peer_address);
    if (!fd.ok()) {
      if (fd.status().code() != absl::StatusCode::kCancelled) {
        log::Warning("replication: %s", fd.status().ToString());
      }
      return;
    }
    absl::MutexLock lock(&mu);
    // Reap the peers whose thread has ended.
    for (auto it = peers.begin(); it != peers.end();) {
      if (it->done) {
        it->thread.join();
        it = peers.erase(it);
      } else {
        ++it;
      }
    }
    if (stopping) {
      ::close(*fd);
      return;
    }
    if (peers.size() >= options.max_replicas) {
      Refuse(*fd, RefusedReason::kTooManyReplicas,
             absl::StrCat("over --replication_max_replicas (", options.max_replicas, ")"));
      ::close(*fd);
      continue;
    }
    Peer& p = peers.emplace_back();
    p.fd = *fd;
    p.info.peer = peer_address;
    p.thread = std::thread([this, &p] { Serve(&p); });
  }
}

void LogShipper::Impl::Serve(Peer* peer) {
  FrameReader reader(options.max_frame_bytes);
  absl::Status status;
  absl::StatusOr<Frame> hello = ReadFrame(peer->fd, &reader, kPeerTimeout, stop);
  uint64_t from = 0, epoch = 0;
  if (!hello.ok()) {
    status = hello.status();
  } else if (hello->type == FrameType::kSnapshotRequest) {
    status = SendSnapshot(peer);
    if (!status.ok()) Refuse(peer->fd, RefusedReason::kError, status.message());
    ::close(peer->fd);
    absl::MutexLock lock(&mu);
    peer->done = true;
    return;
  } else if (hello->type != FrameType::kHello) {
    status = absl::InvalidArgumentError("replication: the first frame must be a hello");
  } else {
    status = ParsePair(*hello, &from, &epoch);
  }
  if (status.ok() && from == 0) {
    status = absl::InvalidArgumentError("replication: hello asks for record 0");
  }
  if (const uint64_t mine = this->epoch.load(); status.ok() && epoch > mine) {
    const std::string msg =
        absl::StrCat("the replica has followed epoch ", epoch, "; this primary's is ",
                     mine, " (a newer primary exists)");
    Refuse(peer->fd, RefusedReason::kStaleEpoch, msg);
    status = absl::FailedPreconditionError(msg);
  }
  if (const uint64_t start = epoch_start.load();
      status.ok() && epoch < this->epoch.load() && start != 0 && from > start) {
    const std::string msg = absl::StrCat(
        "the replica's log (epoch ", epoch, ") goes on to record ", from - 1,
        ", past record ", start - 1, " where this primary's epoch ", this->epoch.load(),
        " began: its records from ", start,
        " on were never replicated here (start it again with an empty --data_dir)");
    Refuse(peer->fd, RefusedReason::kDiverged, msg);
    status = absl::FailedPreconditionError(msg);
  }
  if (status.ok()) {
    {
      absl::MutexLock lock(&mu);
      peer->info.from_seq = from;
      peer->info.sent_seq = from - 1;
    }
    // Acknowledgements are read on a second thread for the connection's lifetime.
    std::thread acks([this, peer, &reader] {
      for (;;) {
        absl::StatusOr<Frame> f = ReadFrame(peer->fd, &reader, kPeerTimeout, stop);
        uint64_t durable_ack = 0, applied_ack = 0;
        if (!f.ok() || f->type != FrameType::kAck ||
            !ParsePair(*f, &durable_ack, &applied_ack).ok()) {
          ::shutdown(peer->fd, SHUT_RDWR);  // Ends Stream() too.
          return;
        }
        {
          absl::MutexLock lock(&mu);
          peer->info.durable_seq = durable_ack;
          peer->info.applied_seq = applied_ack;
        }
        if (options.on_ack) options.on_ack();
      }
    });
    status = Stream(peer, from);
    ::shutdown(peer->fd, SHUT_RDWR);
    acks.join();
  }
  if (!status.ok() && status.code() != absl::StatusCode::kCancelled) {
    log::Info("replication: replica %s: %s", peer->info.peer, status.ToString());
  }
  ::close(peer->fd);
  absl::MutexLock lock(&mu);
  peer->done = true;
}

absl::Status LogShipper::Impl::Stream(Peer* peer, uint64_t from) {
  persistence::ChangeFeed feed(fs, options.wal_dir, options.archive_dir);
  uint64_t next = from;
  std::string out;
  AppendFrame(FrameType::kWelcome,
              WelcomeBody({epoch.load(), durable_seq(), options.client_address,
                           options.http_address}),
              &out);
  if (absl::Status s = WriteAll(peer->fd, out, kPeerTimeout, stop); !s.ok()) return s;
  if (from > durable_seq() + 1) {
    const std::string msg = absl::StrCat("the replica asks for record ", from,
                                         " but this primary's log ends at ", durable_seq(),
                                         " (the replica has records the primary does not)");
    Refuse(peer->fd, RefusedReason::kError, msg);
    return absl::FailedPreconditionError(msg);
  }
  std::string body, payload;
  for (;;) {
    const uint64_t durable_now = durable_seq();
    if (next > durable_now) {
      // Nothing new: wait for a commit, or send a heartbeat after a quiet interval.
      bool woke = false;
      {
        absl::MutexLock lock(&mu);
        const auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
          return stopping || durable >= next;
        };
        woke = mu.AwaitWithTimeout(absl::Condition(&ready), options.heartbeat);
        if (stopping) return absl::CancelledError("replication: stopping");
      }
      if (!woke) {
        out.clear();
        AppendFrame(FrameType::kHeartbeat,
                    PairBody(durable_seq(), static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()))),
                    &out);
        if (absl::Status s = WriteAll(peer->fd, out, kPeerTimeout, stop); !s.ok()) return s;
      }
      continue;
    }
    absl::StatusOr<std::vector<persistence::ChangeRecord>> records =
        feed.Read(next, durable_now, kReadBatch);
    if (!records.ok()) {
      const bool gone = records.status().code() == absl::StatusCode::kOutOfRange;
      Refuse(peer->fd, gone ? RefusedReason::kNeedSnapshot : RefusedReason::kError,
             records.status().message());
      return records.status();
    }
    // Frames of at most about half the limit, so one record always fits.
    size_t i = 0;
    while (i < records->size()) {
      body.clear();
      for (; i < records->size() && body.size() < options.max_frame_bytes / 2; ++i) {
        payload.clear();
        persistence::EncodeMutation((*records)[i].mutation, &payload);
        persistence::AppendRecord((*records)[i].seq, payload, &body);
      }
      out.clear();
      AppendFrame(FrameType::kRecords, body, &out);
      if (absl::Status s = WriteAll(peer->fd, out, kPeerTimeout, stop); !s.ok()) return s;
      next = (*records)[i - 1].seq + 1;
      absl::MutexLock lock(&mu);
      peer->info.sent_seq = next - 1;
    }
  }
}

absl::Status LogShipper::Impl::SendSnapshot(Peer* peer) {
  absl::StatusOr<std::vector<std::string>> snaps =
      persistence::ListSnapshots(fs, options.snapshot_dir);
  if (!snaps.ok()) return snaps.status();
  if (snaps->empty()) {
    return absl::NotFoundError("replication: the primary has no snapshot yet");
  }
  const std::string& path = snaps->front();
  // A mapping stays readable if retention removes the file meanwhile.
  absl::StatusOr<std::unique_ptr<persistence::FileContents>> file = fs->MapFile(path);
  if (!file.ok()) return file.status();
  const absl::string_view bytes = (*file)->bytes();
  const size_t chunk = options.max_frame_bytes / 2;
  std::string out;
  for (size_t off = 0; off < bytes.size(); off += chunk) {
    out.clear();
    AppendFrame(FrameType::kSnapshotChunk, bytes.substr(off, chunk), &out);
    if (absl::Status s = WriteAll(peer->fd, out, kPeerTimeout, stop); !s.ok()) return s;
  }
  out.clear();
  const size_t slash = path.rfind('/');
  AppendFrame(FrameType::kSnapshotEnd,
              slash == std::string::npos ? path : path.substr(slash + 1), &out);
  log::Info("replication: sent snapshot %s (%d bytes) to %s", path, bytes.size(),
            peer->info.peer);
  return WriteAll(peer->fd, out, kPeerTimeout, stop);
}

LogShipper::LogShipper(persistence::FileSystem* fs, std::function<uint64_t()> durable_seq,
                       LogShipperOptions options)
    : impl_(std::make_unique<Impl>(fs, std::move(durable_seq), std::move(options))) {
  impl_->epoch.store(impl_->options.epoch);
  impl_->epoch_start.store(impl_->options.epoch_start_seq);
}

void LogShipper::SetEpoch(uint64_t epoch, uint64_t start_seq) {
  impl_->epoch_start.store(start_seq);
  impl_->epoch.store(epoch);
}
uint64_t LogShipper::epoch() const { return impl_->epoch.load(); }

LogShipper::~LogShipper() { Shutdown(); }

absl::Status LogShipper::Start() {
  absl::StatusOr<int> fd = ListenTcp("replication_listen", impl_->options.listen, &impl_->bound);
  if (!fd.ok()) return fd.status();
  impl_->listen_fd = *fd;
  impl_->accept_thread = std::thread([this] { impl_->AcceptLoop(); });
  return absl::OkStatus();
}

std::string LogShipper::bound_address() const { return impl_->bound; }

void LogShipper::NotifyDurable(uint64_t seq) {
  absl::MutexLock lock(&impl_->mu);
  if (seq > impl_->durable) impl_->durable = seq;
}

std::vector<ReplicaInfo> LogShipper::Replicas() const {
  absl::MutexLock lock(&impl_->mu);
  std::vector<ReplicaInfo> out;
  for (const Impl::Peer& p : impl_->peers) {
    if (!p.done) out.push_back(p.info);
  }
  return out;
}

uint64_t LogShipper::DurableOnReplicas(size_t k) const {
  std::vector<uint64_t> acked;
  {
    absl::MutexLock lock(&impl_->mu);
    for (const Impl::Peer& p : impl_->peers) {
      if (!p.done && p.info.from_seq != 0) acked.push_back(p.info.durable_seq);
    }
  }
  if (k == 0 || acked.size() < k) return 0;
  std::nth_element(acked.begin(), acked.begin() + (k - 1), acked.end(), std::greater<>());
  return acked[k - 1];
}

void LogShipper::Shutdown() {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->stop.Notify();
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  // No new peers now; every peer thread wakes on the stop signal.
  std::list<Impl::Peer> peers;
  {
    absl::MutexLock lock(&impl_->mu);
    peers.swap(impl_->peers);
  }
  for (Impl::Peer& p : peers) {
    if (p.thread.joinable()) p.thread.join();
  }
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
}

}  // namespace attrib::replication
