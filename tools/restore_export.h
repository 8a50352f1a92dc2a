// tools/restore_export.h
//
// `attrib-restore export DIR [--shop N] --format csv|jsonl [--out FILE]
// [--archive A]`: the connections of a data directory (recovered read-only: no
// lock, safe next to a running attribd), ordered by shop, then canonical email
// (bytes), written to FILE or stdout. A summary goes to stderr.
//
//   csv    RFC 4180, LF line ends, a header row, columns
//            email,affiliate_id,name,connected_at,canonical_email,shop,source,
//            order_count,last_order_at
//          email is the address as entered; times are ms since the epoch
//          (last_order_at 0: no counted order). The first four columns are what
//          `import` (both attrib-restore's and attribctl's) reads, and it accepts
//          the others, so export -> import restores every connection with the same
//          email as entered, canonical email, affiliate, name and connected_at.
//          What an import cannot restore: the source (it becomes the import's,
//          `import` by default), the order counters (they start at zero), the
//          remembered orders and the shop settings (export holds neither; use
//          `restore` to copy a whole directory).
//   jsonl  one JSON object per connection with every field:
//            {"shop":1,"canonical_email":"...","entered_email":"...","affiliate":42,
//             "source":"manual","connected_at":...,"name":"...","order_count":0,
//             "last_order_at":0}
//          (the keys of `attribctl --json lookup`).
//
// Exit: 0 written, 1 the directory does not recover or the output cannot be
// written, 2 usage.
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_RESTORE_EXPORT_H_
#define ATTRIB_TOOLS_RESTORE_EXPORT_H_

#include <ostream>

#include "engine/engine.h"
#include "tools/restore_common.h"

namespace attrib::tools {

enum class ExportFormat { kCsv, kJsonl };

// Writes the connections of `engine` (of `shop` only, unless 0) to `out` in the
// order and format above; returns how many.
uint64_t WriteExport(const engine::Engine& engine, engine::ShopId shop, ExportFormat format,
                     std::ostream& out, Progress* progress);

int RunExport(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_EXPORT_H_
