// http/admin_assets.h
//
// The admin page's files (http/admin/: HTML, CSS, JavaScript modules; no build
// step), embedded into the binary at build time by http/embed_admin.cmake, so the
// page works offline and always matches the server it comes from. The HTTP listener
// serves them at /admin/ (http_server.cc) without authentication: the page holds no
// data; every call it makes to the API carries the key the user typed in.
//
// Headers of every asset (AdminAssetHeaders): its Content-Type, an ETag (answered by
// 304 on If-None-Match), `Cache-Control: no-cache` (the browser keeps a copy but asks
// each time: an upgraded server's page is never stale, and an unchanged file costs a
// 304), a Content-Security-Policy that allows only this origin's own scripts, styles
// and API (no inline script, no framing), nosniff and no referrer.
//
// Thread-safety: immutable data.
#ifndef ATTRIB_HTTP_ADMIN_ASSETS_H_
#define ATTRIB_HTTP_ADMIN_ASSETS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace attrib::http {

struct AdminAsset {
  const char* path;          // "/admin/index.html"
  const char* content_type;  // "text/html; charset=utf-8"
  const char* etag;          // "\"0123456789abcdef\"" (quoted, as sent)
  absl::string_view body;
};

// Every embedded file (generated: admin_embed.cc).
absl::Span<const AdminAsset> AdminAssets();

// The asset at `path` ("/admin/" is index.html); nullptr when none.
const AdminAsset* FindAdminAsset(absl::string_view path);

// The response header lines ("Name: value\r\n") every admin asset carries besides
// Content-Type and Content-Length.
absl::string_view AdminAssetHeaders();

}  // namespace attrib::http

#endif  // ATTRIB_HTTP_ADMIN_ASSETS_H_
