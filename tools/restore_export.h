// tools/restore_export.h
//
// `attrib-restore export DIR [--shop N] --format csv|jsonl [--out FILE]
// [--archive A]`: the customers (connections, linked identifiers, the customer
// directory) of a data directory (recovered read-only: no
// lock, safe next to a running attribd), ordered by shop, then canonical email
// (bytes), written to FILE or stdout. A summary goes to stderr.
//
//   csv    RFC 4180, LF line ends, a header row, columns
//            email,affiliate_id,name,connected_at,canonical_email,shop,source,
//            order_count,last_order_at,external_id,emails,directory_name,
//            directory_orders_seen,directory_first_order_at,directory_last_order_at
//          One row per customer. email is the address as entered; times are ms
//          since the epoch (last_order_at 0: no counted order). external_id is the
//          customer's external id (issue 12; empty: none) and emails its OTHER
//          canonical emails, ';'-separated, in link order (tools/import_rows.h). A
//          customer keyed by its external id (first seen by it) has email and
//          canonical_email empty. After the connections come the customers whose
//          identifiers are linked but who have no connection (a merge's loser,
//          a disconnect), and the customers in the customer directory only (one
//          identifier, no connection), merged by shop then primary key:
//          affiliate_id, name, connected_at, source and the counters empty.
//          The directory_* columns are the customer's directory entry (issue 12,
//          engine/customer_directory.h): directory name, orders seen, first and
//          last order time in ms (0 = no order seen); all four empty when the
//          customer has no entry (a connected customer the directory remembers by
//          its connection).
//          `import` (both attrib-restore's and attribctl's) reads email,
//          affiliate_id, name, connected_at, shop, external_id and emails, and
//          accepts the others, so export -> import restores every customer with
//          the same identifiers, email as entered, canonical email, affiliate,
//          name and connected_at; attrib-restore import also restores the
//          directory entries (attribctl import counts them as skipped); an export of the import is byte-identical when
//          the sources were `import` and no order was counted
//          (attrib_restore_identity_test). What an import cannot restore: the
//          source (it becomes the import's, `import` by default), the order
//          counters (they start at zero), the remembered orders and the shop
//          settings (export holds neither; use `restore` to copy a whole
//          directory), and the entered spelling of the other emails (the index
//          keeps them canonical).
//   jsonl  one JSON object per customer with every field:
//            {"shop":1,"canonical_email":"...","entered_email":"...","affiliate":42,
//             "source":"manual","connected_at":...,"name":"...","order_count":0,
//             "last_order_at":0,"external_id":"cus_1","emails":["..."],
//             "directory":{"name":"...","orders_seen":2,"first_order_at":...,
//             "last_order_at":...}}
//          (the keys of `attribctl --json lookup`, plus the identifiers and the
//          directory entry as `attribctl --json customer show` has it, null when
//          none; a customer without a connection has affiliate 0 and source "").
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

struct ExportCounts {
  uint64_t connections = 0;
  uint64_t unconnected_customers = 0;  // With linked identifiers, no connection.
  uint64_t directory_only = 0;         // In the directory, one identifier, no connection.
  uint64_t directory_entries = 0;      // Rows with a directory entry (any kind).
};

// Writes the customers of `engine` (of `shop` only, unless 0) to `out` in the
// order and format above; returns how many rows of each kind.
ExportCounts WriteExport(const engine::Engine& engine, engine::ShopId shop, ExportFormat format,
                     std::ostream& out, Progress* progress);

int RunExport(const RestoreOptions& options, const RestoreEnv& env);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_RESTORE_EXPORT_H_
