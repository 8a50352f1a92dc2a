// persistence/log_writer.cc: the WAL writer with group commit (see the header).
#include "persistence/log_writer.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "persistence/log_format.h"

namespace attrib::persistence {

absl::StatusOr<FsyncPolicy> ParseFsyncPolicy(absl::string_view name) {
  if (name == "always") return FsyncPolicy::kAlways;
  if (name == "interval") return FsyncPolicy::kInterval;
  if (name == "never") return FsyncPolicy::kNever;
  return absl::InvalidArgumentError(
      absl::StrCat("fsync: '", name, "' is not one of always, interval, never"));
}

absl::string_view FsyncPolicyName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kAlways: return "always";
    case FsyncPolicy::kInterval: return "interval";
    case FsyncPolicy::kNever: return "never";
  }
  return "unknown";
}

LogWriter::LogWriter(FileSystem* fs, LogWriterOptions options, uint64_t next_seq)
    : fs_(fs), options_(std::move(options)), next_seq_(next_seq) {
  last_assigned_.store(next_seq - 1);
  durable_.store(next_seq - 1);
}

absl::StatusOr<std::unique_ptr<LogWriter>> LogWriter::Open(FileSystem* fs,
                                                           LogWriterOptions options,
                                                           uint64_t next_seq) {
  if (next_seq == 0) return absl::InvalidArgumentError("log: sequence numbers start at 1");
  if (absl::Status s = fs->CreateDir(options.wal_dir); !s.ok()) return s;
  std::unique_ptr<LogWriter> w(new LogWriter(fs, std::move(options), next_seq));
  {
    absl::MutexLock io(&w->io_mu_);
    w->written_seq_ = w->synced_seq_ = next_seq - 1;
    if (absl::Status s = w->OpenSegment(next_seq); !s.ok()) return s;
  }
  w->thread_ = std::thread([p = w.get()] { p->CommitLoop(); });
  return w;
}

LogWriter::~LogWriter() { (void)Close(); }

void LogWriter::SetDurableCallback(std::function<void(uint64_t)> callback) {
  std::function<void(uint64_t)> now;
  uint64_t durable;
  {
    absl::MutexLock lock(&mu_);
    on_durable_ = callback;
    now = std::move(callback);
    durable = durable_.load(std::memory_order_acquire);
  }
  // What is durable already (everything recovery found, at Open) is reported at
  // once: a listener that starts from 0 would otherwise wait for a commit that may
  // never come, holding every reply that waits for a recovered sequence number
  // (issue 11). Called outside mu_, like the commit thread's calls.
  if (now) now(durable);
}

absl::Status LogWriter::health() const {
  absl::MutexLock lock(&mu_);
  return health_;
}

uint64_t LogWriter::Append(absl::string_view payload) {
  absl::MutexLock lock(&mu_);
  const uint64_t seq = next_seq_++;
  if (batch_.empty()) batch_first_seq_ = seq;
  AppendRecord(seq, payload, &batch_);
  last_assigned_.store(seq, std::memory_order_release);
  return seq;
}

absl::Status LogWriter::OpenSegment(uint64_t first_seq) {
  if (file_ != nullptr) {
    (void)file_->Close();
    file_.reset();
  }
  const std::string path = JoinPath(options_.wal_dir, SegmentName(first_seq));
  absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(path, /*truncate=*/true);
  if (!f.ok()) return f.status();
  SegmentHeader header;
  header.first_seq = first_seq;
  header.email_policy = options_.email_policy;
  absl::Status s = absl::OkStatus();
  if (options_.preallocate) s = (*f)->Preallocate(options_.segment_bytes);
  if (s.ok()) s = (*f)->Append(EncodeSegmentHeader(header));
  if (s.ok()) s = (*f)->Sync();
  // The new file's directory entry must be durable before any record in it is.
  if (s.ok()) s = fs_->SyncDir(options_.wal_dir);
  if (!s.ok()) return s;
  file_ = *std::move(f);
  file_path_ = path;
  file_first_seq_ = first_seq;
  file_good_size_ = kSegmentHeaderBytes;
  return absl::OkStatus();
}

absl::Status LogWriter::TimedSync() {
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = file_->Sync();
  if (s.ok()) {
    fsync_durations_.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count());
  }
  return s;
}

absl::Status LogWriter::SyncNow() {
  if (synced_seq_ == written_seq_ || file_ == nullptr) return absl::OkStatus();
  absl::Status s = TimedSync();
  if (!s.ok()) return s;
  synced_seq_ = written_seq_;
  last_sync_ = absl::Now();
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status LogWriter::TryWrite(const std::string& bytes, uint64_t first_seq) {
  const bool roll = file_ == nullptr || (file_good_size_ >= options_.segment_bytes &&
                                         first_seq > file_first_seq_);
  if (roll) {
    // The closing segment is synced first, so older segments never hold unsynced
    // records once a newer one exists.
    if (absl::Status s = SyncNow(); !s.ok()) return s;
    if (absl::Status s = OpenSegment(first_seq); !s.ok()) return s;
  }
  const uint64_t size_before = file_good_size_;
  absl::Status s = file_->Append(bytes);
  if (s.ok() && options_.fsync == FsyncPolicy::kAlways) s = TimedSync();
  if (!s.ok()) {
    // Cut the segment back to its last whole record, so a retry (or a recovery)
    // never sees half a batch followed by the same records again.
    (void)file_->Close();
    file_.reset();
    absl::Status cut = fs_->Truncate(file_path_, size_before);
    if (cut.ok()) {
      absl::StatusOr<std::unique_ptr<WritableFile>> f = fs_->OpenForAppend(file_path_, false);
      if (f.ok()) file_ = *std::move(f);
    }
    file_good_size_ = size_before;
    if (file_ == nullptr) {
      // Reopen failed: the next attempt starts a fresh segment at first_seq, replacing
      // this one only if it holds no records (else a new file name).
      file_first_seq_ = 0;
    }
    return s;
  }
  file_good_size_ += bytes.size();
  bytes_written_.fetch_add(bytes.size(), std::memory_order_relaxed);
  return absl::OkStatus();
}

void LogWriter::WriteBatch(const std::string& bytes, uint64_t first_seq, uint64_t last_seq) {
  for (;;) {
    absl::Status s;
    {
      absl::MutexLock io(&io_mu_);
      s = TryWrite(bytes, first_seq);
      if (s.ok()) {
        written_seq_ = last_seq;
        if (options_.fsync == FsyncPolicy::kAlways) {
          synced_seq_ = last_seq;
          last_sync_ = absl::Now();
          fsyncs_.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    absl::MutexLock lock(&mu_);
    if (s.ok()) {
      if (!health_.ok()) log::Info("log: writable again; writes are accepted");
      health_ = absl::OkStatus();
      return;
    }
    if (health_.ok()) {
      log::Error("log: write failed, refusing writes and retrying every %s: %s",
                 absl::FormatDuration(options_.retry_delay), s.message());
    }
    health_ = absl::UnavailableError(absl::StrCat(
        "log: writes are refused until the log can be written again: ", s.message()));
    if (stop_) return;  // Shutting down on a failing disk: nothing more can be done.
    // Retry the same batch later; Append() keeps queueing behind it meanwhile.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.retry_delay);
    if (stop_) return;
  }
}

void LogWriter::CommitLoop() {
  for (;;) {
    std::string bytes;
    uint64_t first = 0, last = 0, flush_target = 0;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      const bool unsynced = durable_.load() < last_assigned_.load() ||
                            (options_.fsync != FsyncPolicy::kAlways &&
                             synced_seq_hint_.load() < durable_.load());
      const auto ready = [this] {
        mu_.AssertHeld();
        return !batch_.empty() || stop_ || flush_requested_ > synced_seq_hint_.load();
      };
      if (options_.fsync == FsyncPolicy::kInterval && unsynced) {
        mu_.AwaitWithTimeout(absl::Condition(&ready), options_.interval);
      } else {
        mu_.Await(absl::Condition(&ready));
      }
      bytes.swap(batch_);
      first = batch_first_seq_;
      last = next_seq_ - 1;
      flush_target = flush_requested_;
      stopping = stop_;
    }
    if (!bytes.empty()) WriteBatch(bytes, first, last);

    uint64_t durable;
    {
      absl::MutexLock io(&io_mu_);
      const bool sync_due =
          stopping || flush_target > synced_seq_ ||
          (options_.fsync == FsyncPolicy::kInterval &&
           absl::Now() - last_sync_ >= options_.interval);
      if (sync_due) {
        if (absl::Status s = SyncNow(); !s.ok()) {
          absl::MutexLock lock(&mu_);
          if (health_.ok()) log::Error("log: fdatasync failed, refusing writes: %s", s.message());
          health_ = absl::UnavailableError(absl::StrCat("log: fdatasync failed: ", s.message()));
        }
      }
      synced_seq_hint_.store(synced_seq_);
      durable = options_.fsync == FsyncPolicy::kAlways ? synced_seq_ : written_seq_;
    }
    std::function<void(uint64_t)> callback;
    {
      absl::MutexLock lock(&mu_);  // Also wakes Flush() waiters.
      if (durable > durable_.load()) {
        durable_.store(durable, std::memory_order_release);
        callback = on_durable_;
      }
      if (stopping && batch_.empty()) {
        if (callback) callback(durable);
        return;
      }
    }
    if (callback) callback(durable);
  }
}

absl::Status LogWriter::Flush() {
  uint64_t target;
  {
    absl::MutexLock lock(&mu_);
    target = next_seq_ - 1;
    flush_requested_ = std::max(flush_requested_, target);
    const auto done = [&] {
      mu_.AssertHeld();
      return synced_seq_hint_.load() >= target || stop_ || !health_.ok();
    };
    mu_.Await(absl::Condition(&done));
    if (!health_.ok()) return health_;
  }
  return synced_seq_hint_.load() >= target
             ? absl::OkStatus()
             : absl::UnavailableError("log: closed before the flush completed");
}

absl::Status LogWriter::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock io(&io_mu_);
  absl::Status s = SyncNow();
  if (file_ != nullptr) {
    absl::Status c = file_->Close();
    if (s.ok()) s = c;
    file_.reset();
  }
  return s;
}

absl::Status LogWriter::DropSegmentsUpTo(uint64_t seq, const std::string& archive_dir) {
  absl::MutexLock io(&io_mu_);
  absl::StatusOr<std::vector<std::string>> names = fs_->ListDir(options_.wal_dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> firsts;
  for (const std::string& n : *names) {
    uint64_t first;
    if (ParseSegmentName(n, &first)) firsts.push_back(first);
  }
  std::sort(firsts.begin(), firsts.end());
  if (!archive_dir.empty()) {
    if (absl::Status s = fs_->CreateDir(archive_dir); !s.ok()) return s;
  }
  bool changed = false;
  for (size_t i = 0; i + 1 < firsts.size(); ++i) {
    // Segment i holds [firsts[i], firsts[i+1] - 1]; the open segment is never dropped.
    if (firsts[i] == file_first_seq_ || firsts[i + 1] - 1 > seq) break;
    const std::string path = JoinPath(options_.wal_dir, SegmentName(firsts[i]));
    const absl::Status s =
        archive_dir.empty() ? fs_->Remove(path)
                            : fs_->Rename(path, JoinPath(archive_dir, SegmentName(firsts[i])));
    if (!s.ok()) return s;
    changed = true;
  }
  if (!changed) return absl::OkStatus();
  if (!archive_dir.empty()) {
    if (absl::Status s = fs_->SyncDir(archive_dir); !s.ok()) return s;
  }
  return fs_->SyncDir(options_.wal_dir);
}

}  // namespace attrib::persistence
