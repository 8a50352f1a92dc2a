// tests/replication_e2e_util.h
//
// What the replication tests with real processes share (tests/replication_e2e_test,
// tests/replication_failover_test): a node's replication address from its startup
// line, one series of its metrics page, and a bounded poll (never a sleep).
//
// Thread-safety: pure functions over a process the calling test owns.
#ifndef ATTRIB_TESTS_REPLICATION_E2E_UTIL_H_
#define ATTRIB_TESTS_REPLICATION_E2E_UTIL_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "tests/attribd_process.h"

namespace attrib::testing {

// The "replication on HOST:PORT" part of a startup line ("" if absent).
std::string ReplicationAddress(const AttribdProcess& p);
// The value of an unlabelled series on a node's metrics page ("" if absent).
std::string Metric(const AttribdProcess& p, absl::string_view name);
// Polls `done` until it holds (true) or 60 s have passed (false).
bool Eventually(const std::function<bool()>& done);

}  // namespace attrib::testing

#endif  // ATTRIB_TESTS_REPLICATION_E2E_UTIL_H_
