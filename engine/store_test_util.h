// engine/store_test_util.h
//
// Helpers of the connection store tests (connection_store_test.cc,
// connection_list_test.cc): a valid Connection for an entered email, and a Put
// through the store's KeyEditor.
//
// Thread-safety: plain functions; the store is thread-safe itself.
#ifndef ATTRIB_ENGINE_STORE_TEST_UTIL_H_
#define ATTRIB_ENGINE_STORE_TEST_UTIL_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/canonical_email.h"
#include "engine/connection_store.h"
#include "engine/types.h"
#include "gtest/gtest.h"

namespace attrib::engine {

// Source import, connected at 2023-11-14T22:13:19Z, no name.
inline Connection MakeConnection(ShopId shop, absl::string_view entered,
                                 AffiliateId affiliate) {
  absl::StatusOr<CanonicalEmail> e = Canonicalize(entered, EmailPolicy::kProvider);
  EXPECT_TRUE(e.ok()) << e.status();
  Connection c;
  c.shop = shop;
  c.canonical_email = e->canonical;
  c.entered_email = e->entered;
  c.affiliate = affiliate;
  c.source = Source::kImport;
  c.connected_at = 1'700'000'000'000;
  return c;
}

inline void Put(ConnectionStore& store, const Connection& c) {
  store.Mutate(c.shop, c.canonical_email, [&](KeyEditor& e) { e.Put(c); });
}

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_STORE_TEST_UTIL_H_
