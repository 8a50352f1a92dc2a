// http/admin_assets.cc: finding an embedded admin page file and the headers it is
// served with (see admin_assets.h).
#include "http/admin_assets.h"

namespace attrib::http {

const AdminAsset* FindAdminAsset(absl::string_view path) {
  if (path == "/admin/") path = "/admin/index.html";
  for (const AdminAsset& a : AdminAssets()) {
    if (path == a.path) return &a;
  }
  return nullptr;
}

absl::string_view AdminAssetHeaders() {
  return "Cache-Control: no-cache\r\n"
         "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
         "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
         "frame-ancestors 'none'\r\n"
         "X-Content-Type-Options: nosniff\r\n"
         "Referrer-Policy: no-referrer\r\n";
}

}  // namespace attrib::http
