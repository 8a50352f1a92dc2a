// persistence/webhook_cursors.h
//
// The durable cursor of each webhook endpoint: the next log sequence number to
// deliver, one small file per endpoint in DATA/webhooks/ ("ep_<id>.cursor", the
// number in decimal and a newline). Saved after acknowledged deliveries: written to
// a temp file, fsynced, renamed over the old one, the directory fsynced, so a crash
// leaves the old or the new value, never a torn one. Delivery resumes there after a
// restart: events after it may be delivered again (at least once).
//
// Thread-safety: Save/Load/Remove of different endpoints may run concurrently; one
// endpoint's cursor is written by its deliverer's thread only.
#ifndef ATTRIB_PERSISTENCE_WEBHOOK_CURSORS_H_
#define ATTRIB_PERSISTENCE_WEBHOOK_CURSORS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "persistence/file_system.h"

namespace attrib::persistence {

class WebhookCursors {
 public:
  // `dir` is DATA/webhooks (created by Open). `fs` must outlive this.
  WebhookCursors(FileSystem* fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}
  absl::Status Open();

  // nullopt: no cursor saved yet. DataLoss naming the file when it does not parse.
  absl::StatusOr<std::optional<uint64_t>> Load(uint64_t endpoint_id);
  absl::Status Save(uint64_t endpoint_id, uint64_t cursor);
  absl::Status Remove(uint64_t endpoint_id);

 private:
  std::string PathOf(uint64_t endpoint_id) const;
  FileSystem* const fs_;
  const std::string dir_;
};

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_WEBHOOK_CURSORS_H_
