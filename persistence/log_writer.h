// persistence/log_writer.h
//
// The write-ahead log's writer, with group commit.
//
// Append() is called by the engine's mutation sink while engine locks are held: it
// only assigns the next sequence number and copies the record into the pending
// batch (a short mutex, no I/O). One commit thread takes the whole batch, writes it
// with one write, makes it durable under the fsync policy, and then reports the
// durable sequence number through the callback, which releases the replies waiting
// for it. So one fdatasync covers every record of a batch, and while one batch is
// being synced the next one fills.
//
//   kAlways:   durable = fdatasync'ed. Replies wait for it (the default).
//   kInterval: durable = written to the OS; fdatasync at most every `interval` (and
//              within `interval` of any write): a crash of the machine loses at
//              most ~interval of acknowledged changes, a crash of the process none.
//   kNever:    durable = written to the OS; fdatasync only on Flush()/Close().
//
// I/O errors (EIO, ENOSPC): the failed batch is kept, the segment is cut back to its
// last good size, and the batch is retried every `retry_delay` until it is written;
// meanwhile health() returns the error (the server refuses new writes with it, reads
// go on) and nothing acknowledged is lost: replies of the failed batch wait for the
// retry to succeed. Writes resume by themselves once the disk accepts them.
//
// Segments roll at `segment_bytes`; a new segment's directory entry is synced before
// any record in it is reported durable.
//
// Thread-safety: Append(), the accessors and Flush() may be called from any thread.
#ifndef ATTRIB_PERSISTENCE_LOG_WRITER_H_
#define ATTRIB_PERSISTENCE_LOG_WRITER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/histogram.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

enum class FsyncPolicy { kAlways, kInterval, kNever };
absl::StatusOr<FsyncPolicy> ParseFsyncPolicy(absl::string_view name);
absl::string_view FsyncPolicyName(FsyncPolicy p);

struct LogWriterOptions {
  std::string wal_dir;  // DATA/wal
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  absl::Duration interval = absl::Milliseconds(100);
  uint64_t segment_bytes = 64 << 20;
  // Reserve each new segment's blocks up front (WritableFile::Preallocate), so a
  // commit's fdatasync does not also wait for block allocation.
  bool preallocate = true;
  uint8_t email_policy = 0;  // Recorded in every segment header.
  absl::Duration retry_delay = absl::Milliseconds(500);
};

class LogWriter {
 public:
  // Starts a new segment whose first record will be `next_seq` (an existing
  // segment file of that name, which can only hold no records, is replaced).
  // `fs` must outlive the writer.
  static absl::StatusOr<std::unique_ptr<LogWriter>> Open(FileSystem* fs,
                                                         LogWriterOptions options,
                                                         uint64_t next_seq);
  ~LogWriter();  // Close().
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Assigns the next sequence number to `payload` and queues it. Never blocks on I/O.
  uint64_t Append(absl::string_view payload);
  uint64_t last_assigned_seq() const { return last_assigned_.load(std::memory_order_acquire); }
  uint64_t durable_seq() const { return durable_.load(std::memory_order_acquire); }
  // OK, or the I/O error that currently stops the log (writes should be refused).
  absl::Status health() const;
  // Bytes written to the log since Open (for the snapshot trigger).
  uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  // Called on the commit thread after each batch becomes durable, with the durable
  // sequence number; and once at once, on the calling thread, with what is durable
  // already (at Open: everything before `next_seq`, i.e. all that recovery found).
  // The calls may overlap and arrive out of order: the callback must keep the
  // largest value it was given. Set before the first Append.
  void SetDurableCallback(std::function<void(uint64_t)> callback);

  // Waits until everything appended before the call is written and fdatasync'ed
  // (whatever the policy). Returns the error if the log is failing.
  absl::Status Flush();
  // Flushes and stops the commit thread. Idempotent.
  absl::Status Close();

  // Removes (or, with a non-empty archive_dir, moves there) every closed segment whose
  // records all have seq <= `seq`.
  absl::Status DropSegmentsUpTo(uint64_t seq, const std::string& archive_dir);
  uint64_t fsyncs() const { return fsyncs_.load(std::memory_order_relaxed); }
  // How long each of those fdatasyncs took.
  metrics::HistogramSnapshot fsync_durations() const { return fsync_durations_.Read(); }

 private:
  LogWriter(FileSystem* fs, LogWriterOptions options, uint64_t next_seq);
  absl::Status OpenSegment(uint64_t first_seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  void CommitLoop();
  // Writes (and per policy syncs) one batch; retries until it succeeds or Close().
  void WriteBatch(const std::string& bytes, uint64_t first_seq, uint64_t last_seq);
  absl::Status TryWrite(const std::string& bytes, uint64_t first_seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  absl::Status SyncNow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  // file_->Sync(), timed into fsync_durations_ when it succeeds.
  absl::Status TimedSync() ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);

  FileSystem* const fs_;
  const LogWriterOptions options_;

  // The pending batch (filled by Append under engine locks).
  mutable absl::Mutex mu_;
  std::string batch_ ABSL_GUARDED_BY(mu_);
  uint64_t batch_first_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;  // Sync up to this seq.
  absl::Status health_ ABSL_GUARDED_BY(mu_);
  std::function<void(uint64_t)> on_durable_ ABSL_GUARDED_BY(mu_);

  // The segment being written (commit thread, Flush, DropSegmentsUpTo).
  absl::Mutex io_mu_;
  std::unique_ptr<WritableFile> file_ ABSL_GUARDED_BY(io_mu_);
  std::string file_path_ ABSL_GUARDED_BY(io_mu_);
  uint64_t file_first_seq_ ABSL_GUARDED_BY(io_mu_) = 0;
  uint64_t file_good_size_ ABSL_GUARDED_BY(io_mu_) = 0;  // Ends on a whole record.
  uint64_t written_seq_ ABSL_GUARDED_BY(io_mu_) = 0;    // Written to the OS.
  uint64_t synced_seq_ ABSL_GUARDED_BY(io_mu_) = 0;     // fdatasync'ed.
  absl::Time last_sync_ ABSL_GUARDED_BY(io_mu_);

  std::atomic<uint64_t> last_assigned_{0};
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> fsyncs_{0};
  metrics::Histogram fsync_durations_;
  // synced_seq_ for readers that must not take io_mu_ (it is held across I/O).
  std::atomic<uint64_t> synced_seq_hint_{0};
  std::thread thread_;
  bool closed_ = false;  // Close() ran (guarded by being called from one owner).
};

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_LOG_WRITER_H_
