// bench/bench_worker.cc: one client thread's epoll loop (see the header).
//
// Thread-safety: as the header.
#include "bench/bench_worker.h"

#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "capnp/common.h"

namespace attrib::bench {
namespace {

// Every recv() has at least this much room: one read takes a whole pipeline burst.
constexpr size_t kReadChunkBytes = 64 << 10;
// The loop wakes at least this often to notice the end, an abort or a stalled reply.
constexpr int64_t kMaxWaitNanos = 100'000'000;
constexpr int kMaxEvents = 256;

size_t RoundUpPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace


Worker::Worker(const DriverOptions& options)
    : options_(options), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {}

Worker::~Worker() {
  for (const std::unique_ptr<Conn>& c : conns_) ::close(c->fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

absl::Status Worker::AddConnection(int fd, int index) {
  auto c = std::make_unique<Conn>();
  c->fd = fd;
  c->index = index;
  c->in.resize(2 * kReadChunkBytes / sizeof(capnp::word));
  c->out.reserve(kReadChunkBytes);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c.get();
  if (epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("epoll: ", std::strerror(err)));
  }
  conns_.push_back(std::move(c));
  return absl::OkStatus();
}

absl::Status Worker::ConnError(const Conn& c, absl::string_view what) const {
  return absl::UnavailableError(absl::StrCat(
      "connection ", c.index, " to ", options_.server.text, ": ", what, " (after ",
      c.replies, " replies, ", c.ring_count, " requests in flight)"));
}

absl::Status Worker::Flush(Conn& c) {
  while (c.out_sent < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c.want_write) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = &c;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
        c.want_write = true;
      }
      return absl::OkStatus();
    }
    return ConnError(c, errno == EPIPE || errno == ECONNRESET
                            ? "the server closed the connection"
                            : absl::StrCat("write: ", std::strerror(errno)));
  }
  c.out.clear();
  c.out_sent = 0;
  if (c.want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = false;
  }
  return absl::OkStatus();
}

absl::Status Worker::ReadReplies(Conn& c, int64_t now) {
  // Room for one chunk: move the undecoded tail to the front (keeps alignment: the
  // tail starts at a reply boundary), and grow when one reply is larger than that.
  if (c.in_begin == c.in_end) {
    c.in_begin = c.in_end = 0;
  } else if (c.in.size() * sizeof(capnp::word) - c.in_end < kReadChunkBytes && c.in_begin > 0) {
    char* base = reinterpret_cast<char*>(c.in.data());
    std::memmove(base, base + c.in_begin, c.in_end - c.in_begin);
    c.in_end -= c.in_begin;
    c.in_begin = 0;
  }
  if (c.in.size() * sizeof(capnp::word) - c.in_end < kReadChunkBytes) c.in.resize(c.in.size() * 2);
  char* base = reinterpret_cast<char*>(c.in.data());
  const ssize_t n = ::recv(c.fd, base + c.in_end, c.in.size() * sizeof(capnp::word) - c.in_end, 0);
  if (n == 0) return ConnError(c, "the server closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return absl::OkStatus();
    return ConnError(c, errno == ECONNRESET ? "the server closed the connection (reset)"
                                            : absl::StrCat("read: ", std::strerror(errno)));
  }
  c.in_end += static_cast<size_t>(n);
  const bool attrib = options_.target == Target::kAttrib;
  std::string error;
  while (c.in_begin < c.in_end) {
    if (c.ring_count == 0) {
      return ConnError(c, absl::StrCat(c.in_end - c.in_begin,
                                       " bytes arrived with no request in flight"));
    }
    const InFlight request = c.ring[c.ring_head];
    ReplyResult result;
    const DecodeStatus status =
        attrib ? DecodeAttribReply(request.op, c.next_id - c.ring_count, request.keys,
                                   base + c.in_begin, c.in_end - c.in_begin,
                                   options_.max_reply_bytes, &result, &error)
               : DecodeRespReply(request.op, request.keys, base + c.in_begin,
                                 c.in_end - c.in_begin, &result, &error);
    if (status == DecodeStatus::kNeedMore) break;
    if (status == DecodeStatus::kInvalid) {
      return ConnError(c, absl::StrCat("unparsable reply to a ", OpName(request.op),
                                       " request: ", error));
    }
    if (absl::Status s = Account(c, request, result, now); !s.ok()) return s;
    c.in_begin += result.bytes;
    c.ring_head = (c.ring_head + 1) & (c.ring.size() - 1);
    --c.ring_count;
    ++c.replies;
    c.last_progress_ns = now;
  }
  return absl::OkStatus();
}

absl::Status Worker::Account(Conn& c, const InFlight& request, const ReplyResult& result,
                             int64_t now) {
  if (request.op == Op::kAuth) {
    c.auth_in_flight = false;
    if (result.is_error) {
      return ConnError(c, absl::StrCat("the server refused the auth token: ",
                                       result.error_kind));
    }
    return absl::OkStatus();
  }
  if (!request.measured || now >= run_->end_ns) return absl::OkStatus();
  PhaseCounters& k = *counters_;
  ++k.requests;
  k.keys += request.keys;
  ++k.by_op[static_cast<size_t>(request.op)];
  k.misses += result.misses;
  auto count_error = [&](absl::string_view kind, uint64_t n) {
    k.errors += n;
    auto it = k.errors_by_kind.find(kind);
    if (it == k.errors_by_kind.end()) {
      k.errors_by_kind.emplace(std::string(kind), n);  // Allocates once per kind.
    } else {
      it->second += n;
    }
  };
  if (result.is_error) count_error(result.error_kind, 1);
  if (result.item_errors > 0) {
    count_error(absl::StrCat("batch_item_", result.item_error_kind), result.item_errors);
  }
  k.latency.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - request.intended_ns)));
  last_reply_ns_ = now;
  return absl::OkStatus();
}

int64_t Worker::NextWakeNanos(int64_t now) const {
  int64_t wake = now + kMaxWaitNanos;
  if (issuing_ && run_->end_ns != INT64_MAX) wake = std::min(wake, run_->end_ns);
  const PhaseSpec& spec = *run_->spec;
  if (issuing_ && !spec.load && spec.rate > 0) {
    for (const std::unique_ptr<Conn>& c : conns_) {
      if (c->ring_count < spec.pipeline) wake = std::min(wake, Intended(*c, c->scheduled));
    }
  }
  return std::max(wake, now);
}

absl::Status Worker::CheckStalls(int64_t now) const {
  const int64_t limit = absl::ToInt64Nanoseconds(options_.reply_timeout);
  for (const std::unique_ptr<Conn>& c : conns_) {
    if (c->ring_count > 0 && now - c->last_progress_ns > limit) {
      return ConnError(*c, absl::StrCat("no reply for ",
                                        absl::FormatDuration(options_.reply_timeout)));
    }
  }
  return absl::OkStatus();
}

absl::Status Worker::RunPhase(const PhaseRun& run, PhaseCounters* counters,
                              int64_t* last_reply_ns) {
  const PhaseSpec& spec = *run.spec;
  run_ = &run;
  counters_ = counters;
  last_reply_ns_ = run.measure_ns;
  requests_mode_ = spec.load || spec.requests > 0;
  issuing_ = true;
  conns_with_quota_ = 0;
  interval_ns_ = spec.rate > 0 ? 1e9 * run.total_connections / spec.rate : 0;
  uint32_t sum = 0;
  for (int op = 0; op < kWorkloadOps; ++op) cumulative_weight_[op] = sum += spec.mix.weight[op];
  if (options_.target == Target::kAttrib) {
    encoder_ = std::make_unique<AttribEncoder>(std::max<uint32_t>(spec.batch, 1));
  }
  batch_keys_.reserve(spec.batch);
  if (spec.rate > 0) prctl(PR_SET_TIMERSLACK, 1UL);  // Wake on time for the schedule.

  const uint64_t total = static_cast<uint64_t>(run.total_connections);
  if (!spec.load) {
    // Seeded by the worker's first connection: the same for the same --threads.
    key_rng_ = SplitMix64(~spec.seed * 0xD1B54A32D192ED03ull ^ (run.phase_number << 32) ^
                          static_cast<uint64_t>(conns_.empty() ? 0 : conns_[0]->index));
    for (uint64_t& k : key_ahead_) k = spec.chooser->Next(key_rng_);
    key_head_ = 0;
  }
  for (const std::unique_ptr<Conn>& cp : conns_) {
    Conn& c = *cp;
    const uint64_t i = static_cast<uint64_t>(c.index);
    if (c.ring.size() < spec.pipeline + 1u) {
      c.ring.resize(RoundUpPowerOfTwo(spec.pipeline + 1u));  // Empty between phases.
      c.ring_head = 0;
    }
    c.rng = SplitMix64(spec.seed * 0x9E3779B97F4A7C15ull ^ (run.phase_number << 32) ^ i);
    c.scheduled = 0;
    c.offset_ns = static_cast<int64_t>(interval_ns_ * static_cast<double>(i) / total);
    if (spec.load) {
      const uint64_t n = spec.keys->size() - std::min(spec.load_first, spec.keys->size());
      c.load_next = spec.load_first + n * i / total;
      c.quota = spec.load_first + n * (i + 1) / total - c.load_next;
    } else {
      c.quota = spec.requests / total + (i < spec.requests % total ? 1 : 0);
    }
    if (requests_mode_ && c.quota > 0) ++conns_with_quota_;
  }

  absl::Status status;
  int64_t now = MonotonicNanos();
  int64_t next_stall_check = now + kMaxWaitNanos;
  for (const std::unique_ptr<Conn>& c : conns_) {
    // attrib with a token: Auth goes first, in its own ring slot, off the schedule.
    if (options_.target == Target::kAttrib && !options_.auth_token.empty() && !c->auth_sent) {
      Issue(*c, now, false);
    }
    Fill(*c, now);
    if (status = Flush(*c); !status.ok()) break;
  }
  epoll_event events[kMaxEvents];
  while (status.ok()) {
    if (run.abort->load(std::memory_order_relaxed)) {
      status = absl::AbortedError("stopped: another client thread failed");
      break;
    }
    now = MonotonicNanos();
    if (issuing_ && (requests_mode_ ? conns_with_quota_ == 0 : now >= run.end_ns)) {
      issuing_ = false;
      if (spec.rate > 0 && !requests_mode_) {
        for (const std::unique_ptr<Conn>& c : conns_) {  // Due by the end, never sent.
          const double due = (run.end_ns - 1 - run.start_ns - c->offset_ns) / interval_ns_;
          const uint64_t owed = static_cast<uint64_t>(std::max(0.0, std::floor(due) + 1));
          if (owed > c->scheduled) counters_->unsent_backlog += owed - c->scheduled;
        }
      }
    }
    if (!issuing_) {
      bool drained = true;
      for (const std::unique_ptr<Conn>& c : conns_) drained &= c->ring_count == 0;
      if (drained) break;
    }
    if (issuing_ && spec.rate > 0 && !spec.load) {
      for (const std::unique_ptr<Conn>& c : conns_) {
        Fill(*c, now);
        if (status = Flush(*c); !status.ok()) break;
      }
      if (!status.ok()) break;
    }
    const int64_t wait = NextWakeNanos(now) - now;
    const timespec timeout{static_cast<time_t>(wait / 1'000'000'000),
                           static_cast<long>(wait % 1'000'000'000)};
    const int n = ::epoll_pwait2(epoll_fd_, events, kMaxEvents, &timeout, nullptr);
    if (n < 0 && errno != EINTR) {
      status = absl::InternalError(absl::StrCat("epoll_pwait2: ", std::strerror(errno)));
      break;
    }
    now = MonotonicNanos();
    for (int e = 0; e < n && status.ok(); ++e) {
      Conn& c = *static_cast<Conn*>(events[e].data.ptr);
      if (events[e].events & EPOLLOUT) status = Flush(c);
      if (status.ok() && (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        status = ReadReplies(c, now);
        if (status.ok()) {
          // Closed loop: one reply in, one request out. Open loop: only what is due.
          // A fresh clock: the send time must not include decoding this batch.
          Fill(c, MonotonicNanos());
          status = Flush(c);
        }
      }
    }
    if (status.ok() && now >= next_stall_check) {
      status = CheckStalls(now);
      next_stall_check = now + kMaxWaitNanos;
    }
  }
  if (!status.ok() && !absl::IsAborted(status)) run.abort->store(true);
  *last_reply_ns = last_reply_ns_;
  encoder_.reset();
  run_ = nullptr;
  counters_ = nullptr;
  return status;
}

}  // namespace attrib::bench