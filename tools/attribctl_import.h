// tools/attribctl_import.h
//
// `attribctl import FILE.csv --shop=N [--source=import] [--mode=if_absent|reassign]
// [--pipeline=256]`: streams a CSV of connections to the server as pipelined connect
// requests (at most --pipeline without a reply), reading replies as it goes.
//
// The CSV and the report are tools/import_rows.h's, shared with `attrib-restore
// import`: a header row naming the columns (email and affiliate_id required; name,
// connected_at, shop optional; the other columns `attrib-restore export` writes are
// accepted and ignored). '-' as FILE reads stdin. A row is rejected, with its line
// number and reason, when it is malformed on the client side (such a row is not
// sent) or when the server refuses it (already_connected, invalid email). The report
// at the end (stdout) gives rows read, connected (created), replaced, unchanged and
// rejected, and each rejected row; progress goes to stderr only when stderr is a
// terminal. The customer-directory columns (directory_name, directory_orders_seen,
// directory_first_order_at, directory_last_order_at) are read and checked but not
// sent: the protocol has no operation that stores a whole directory entry (putCustomer
// sets a name only), so the report counts such rows as `directory entries skipped`
// (JSON "directory_skipped"), and the exit code does not change; import them
// offline with `attrib-restore import`.
//
// Exit: 0 no row rejected; 1 some rows rejected; 2 usage error (flags, header);
// 3 the server could not be reached or the connection was lost (the report then
// says how many rows have an unknown outcome; re-running with if_absent is safe:
// rows already imported come back `unchanged`).
//
// Thread-safety: single-threaded.
#ifndef ATTRIB_TOOLS_ATTRIBCTL_IMPORT_H_
#define ATTRIB_TOOLS_ATTRIBCTL_IMPORT_H_

#include "tools/attribctl_common.h"

namespace attrib::tools {

inline constexpr uint32_t kMaxImportPipeline = 100'000;

int RunImport(const CtlOptions& options);

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBCTL_IMPORT_H_
