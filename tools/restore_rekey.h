// tools/restore_rekey.h
//
// `attrib-restore rekey DIR --to NEW --email-policy P [--archive A]`: a copy of DIR
// whose connections are keyed under email policy P (SPEC §2 step 7), for moving a
// data directory to another policy (attribd refuses a directory made under another
// policy than its --email-policy).
//
// Every connection's email as entered is canonicalized again under P. Addresses
// that were different customers can become one (provider: Jane.Doe@gmail.com and
// janedoe+x@gmail.com), and one customer's spellings can never split (a connection
// holds one entered email). When two or more connections of a shop merge, the one
// with the newest connected_at is kept (it is the most recent decision about the
// customer; on a tie, the first in canonical-email order under the old policy) and
// each merge is reported:
//   merged shop 1 janedoe@gmail.com: kept Jane.Doe@gmail.com (affiliate 7,
//     connected ...); dropped janedoe+x@gmail.com (affiliate 9, connected ...)
// The kept connection keeps its own order counters.
//
// Settings are copied. Remembered orders are copied with the customer's key
// re-keyed (through the connection that had it; an order whose customer has no
// connection any more is re-canonicalized from its old key, which under provider ->
// standard cannot bring back removed dots or +tags). An order counted against a
// dropped connection is no longer un-counted by a later reverse.
//
// NEW gets META {P, DIR's shard count}; attribd (with --email-policy=P) continues
// its log after DIR's last sequence number. Exit: 0 written with no merge, 1 written
// but connections were merged (listed), or DIR/NEW failed, 2 usage.
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_REKEY_H_
#define ATTRIB_TOOLS_RESTORE_REKEY_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "tools/restore_common.h"

namespace attrib::tools {

// Connections of one shop that became one customer under the new policy.
struct RekeyMerge {
  engine::Connection kept;                   // Keyed under the new policy.
  std::vector<engine::Connection> dropped;   // Likewise; in the order met.
};

struct RekeyResult {
  std::unique_ptr<engine::Engine> engine;  // Keyed under the new policy.
  std::vector<RekeyMerge> merges;          // In (shop, new key) order.
  uint64_t connections_in = 0;
  uint64_t rekeyed = 0;    // Connections whose canonical email changed.
  uint64_t unkeyable = 0;  // Entered emails the new policy rejects (dropped, reported).
};

// Builds the re-keyed copy of `source` (the steps above); `err` receives a line
// per unkeyable connection.
absl::StatusOr<RekeyResult> Rekey(const engine::Engine& source, engine::EmailPolicy policy,
                                  engine::TimeMs order_window_ms, const RestoreEnv& env);

int RunRekey(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_REKEY_H_
