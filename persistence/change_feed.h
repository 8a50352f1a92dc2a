// persistence/change_feed.h
//
// The change feed's reader: every committed change from a sequence number on, read
// back from the write-ahead log (and the archive, `--wal_archive`, where snapshots
// moved covered segments). It is what `subscribe` (native protocol), `GET
// /v1/changes?from=SEQ` (HTTP), webhook delivery and replicas are to be built on
// (issues 13 and 16): the log is the one ordered record of what was acknowledged, so
// a consumer that remembers the last sequence number it processed resumes exactly
// there after any disconnect or restart, and sees every change once, in commit
// order.
//
// Read(from, durable, max) returns the records with from <= seq <= durable (at most
// `max`), decoded. `durable` is the caller's view of the log's durable sequence number
// (LogWriter::durable_seq()): nothing past it is returned, so a consumer never sees
// a change that a crash could still take back. Records are read from the segment
// files as they are on disk: the segment being appended to is read up to `durable`
// (those bytes are written); a segment that rolled is followed into the next one.
// A reader keeps a cursor (segment, offset, next seq), so a consumer that reads on
// from where it stopped costs O(new records), not a rescan of the segment.
//
// Errors: OutOfRange when `from` is older than the oldest segment kept ("start from
// a snapshot": the consumer must resynchronize), DataLoss naming file and offset
// when a record at or before `durable` does not verify (length, CRC32C, sequence),
// the file system's errors otherwise.
//
// Thread-safety: a ChangeFeed is used by one consumer thread at a time (it owns its
// cursor and mapping); any number of ChangeFeeds may read the same log concurrently
// with the LogWriter appending to it.
#ifndef ATTRIB_PERSISTENCE_CHANGE_FEED_H_
#define ATTRIB_PERSISTENCE_CHANGE_FEED_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/mutation.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

struct ChangeRecord {
  uint64_t seq = 0;
  engine::Mutation mutation;
};

class ChangeFeed {
 public:
  // `wal_dir` is DATA/wal; `archive_dir` the --wal_archive directory (empty: none).
  // `fs` must outlive the feed.
  ChangeFeed(FileSystem* fs, std::string wal_dir, std::string archive_dir = "");
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  absl::StatusOr<std::vector<ChangeRecord>> Read(uint64_t from, uint64_t durable,
                                                 size_t max_records);

 private:
  // Points the cursor at the segment holding `seq` and at that record's offset.
  absl::Status Seek(uint64_t seq);
  // (Re)maps the cursor's segment file.
  absl::Status Map();

  FileSystem* const fs_;
  const std::string wal_dir_;
  const std::string archive_dir_;
  // The cursor: the segment being read, its mapping, and where record next_seq_ is.
  std::string path_;
  std::unique_ptr<FileContents> contents_;
  uint64_t offset_ = 0;
  uint64_t next_seq_ = 0;  // 0: no cursor.
};

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_CHANGE_FEED_H_
