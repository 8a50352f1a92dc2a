// tools/attribctl_output.h
//
// How attribctl prints results: human lines by default, or with --json one JSON
// object per result line (JSON Lines), for scripts.
//
// Human output (stdout), one line per result, e.g.
//   connected jane@x.com (Jane@X.com) to affiliate 42 [created]
//   jane@x.com (Jane@X.com): affiliate 42, active; source manual, connected
//     2024-01-31T12:00:00Z, 3 orders, last order 2024-02-02T08:00:00Z   (one line)
//   order A-1: affiliate 42 (connected) [counted; customer jane@x.com]
// Times are RFC 3339 UTC; counts and ids are decimal.
//
// JSON output (stdout): keys are snake_case, ids and times (ms since the epoch) are
// numbers, enums are their schema names in snake_case ("if_absent", "expired").
// Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD.
// A request the server refused prints {"error":{"code":"already_exists",
// "message":"already_connected: ...","current_affiliate":7}} on stdout; in human
// mode the error goes to stderr as "attribctl: <operation>: <message>". Errors of the
// connection itself (exit code 3) always go to stderr, as text.
//
// Thread-safety: single-threaded; writes to std::cout / std::cerr.
#ifndef ATTRIB_TOOLS_ATTRIBCTL_OUTPUT_H_
#define ATTRIB_TOOLS_ATTRIBCTL_OUTPUT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/attrib.capnp.h"
#include "tools/cli_values.h"
#include "tools/json_writer.h"

namespace attrib::tools {

namespace wire = ::attrib::net::wire;

// JsonString, JsonObject, ErrorJson: tools/json_writer.h; IsoTime: tools/cli_values.h.

std::string ConnectionJson(wire::Connection::Reader c);
std::string StatusJson(wire::Status::Reader s);
std::string DecisionJson(wire::Decision::Reader d);
std::string SettingsJson(wire::Settings::Reader s);

// The human line of a connection and its status (lookup and list).
std::string ConnectionLine(wire::Connection::Reader c, wire::Status::Reader s);

class Output {
 public:
  explicit Output(bool json) : json_(json) {}
  bool json() const { return json_; }

  void Connected(wire::ConnectResult::Reader r) const;
  void Promoted(wire::PromoteResult::Reader r) const;
  void Disconnected(wire::Connection::Reader removed) const;
  // `query`: the email as the user gave it.
  void Lookup(absl::string_view query, wire::LookupResult::Reader r) const;
  void ListItem(wire::ListItem::Reader item) const;
  // Human: "next page: --cursor=..." on stderr; JSON: {"next_cursor":...} on stdout.
  void NextCursor(absl::string_view cursor) const;
  void Count(uint64_t shop, uint64_t affiliate, wire::CountResult::Reader r) const;
  void Settings(uint64_t shop, wire::Settings::Reader s) const;
  void Attributed(wire::AttributeResult::Reader r) const;
  void Reversed(wire::ReverseResult::Reader r) const;
  void Explained(wire::Decision::Reader d) const;
  void Stats(wire::StatsResult::Reader s) const;
  void Pong(absl::string_view server, absl::Duration rtt) const;
  void SnapshotDone() const;

  // A request that failed. `what` names it ("connect", "lookup x@y.com"); `email`,
  // when not empty, is added to the JSON object (batch items).
  void Error(absl::string_view what, const absl::Status& status,
             absl::string_view email = "") const;

 private:
  const bool json_;
};

}  // namespace attrib::tools

#endif  // ATTRIB_TOOLS_ATTRIBCTL_OUTPUT_H_
