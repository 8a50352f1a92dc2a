// service/durability_hooks.h
//
// What the service (and the servers' reply holding) needs from the durability layer,
// without knowing files: tools/attribd.cc adapts persistence::Durability to it.
//
// Thread-safety: implementations are called from any thread, concurrently.
#ifndef ATTRIB_SERVICE_DURABILITY_HOOKS_H_
#define ATTRIB_SERVICE_DURABILITY_HOOKS_H_

#include <cstdint>

#include "absl/status/status.h"

namespace attrib::service {

class DurabilityHooks {
 public:
  virtual ~DurabilityHooks() = default;
  // OK, or why writes are refused right now (full disk, I/O error): Unavailable.
  virtual absl::Status CanWrite() = 0;
  // The newest sequence number handed out. A write request's reply waits for it:
  // that covers the request's own change and any not-yet-durable change it saw.
  virtual uint64_t LastAssignedSeq() = 0;
  // The log is durable up to here. DurableSeq() == LastAssignedSeq(): the log has
  // nothing left to commit, so no reply should still be waiting (the server's stall
  // check).
  virtual uint64_t DurableSeq() = 0;
  // OK, or why a read is refused right now (issue 16: a replica past
  // --max_replica_lag, or one that has not applied `min_seq`, waiting for it up to
  // --replica_read_wait when `may_wait`): Unavailable. `min_seq` 0: nothing to wait for.
  virtual absl::Status CanRead(uint64_t min_seq, bool may_wait) {
    (void)min_seq;
    (void)may_wait;
    return absl::OkStatus();
  }
};

}  // namespace attrib::service

#endif  // ATTRIB_SERVICE_DURABILITY_HOOKS_H_
