// webhooks/events.h
//
// The webhook events of committed changes: one log record (persistence/change_feed.h)
// becomes at most one event, so the event id can be derived from the record's
// sequence number and stays the same for every delivery attempt and every endpoint
// (receivers deduplicate on `webhook-id`):
//
//   log record                     event type
//   SetConnection (none before)    connection.created
//   SetConnection (replacing one)  connection.replaced
//   RemoveConnection               connection.removed
//   RecordOrder                    order.attributed (data says whether it created or
//                                  moved a connection)
//   ReverseOrder                   order.reversed
//   PutSettings                    settings.updated
//   PutAffiliate (new / existing)  affiliate.created / affiliate.updated
//   LinkIdentifier                 customer.identifier_linked
//   UnlinkIdentifier               customer.identifier_unlinked
//   MergeCustomers                 customer.merged (with the connection it removed)
//   anything else                  no event (records added later map to nothing
//                                  until they are given a type here)
//
// Body (JSON, snake_case like `attribctl --json`; ids as decimal strings because
// JavaScript cannot hold every u64; times in ms and RFC 3339):
//   {"id":"evt_42","type":"connection.created","seq":"42","shop":"1",
//    "occurred_at":1700000000000,"timestamp":"2023-11-14T22:13:20.000Z",
//    "data":{...}}
// `timestamp` and `type` and `data` are the Standard Webhooks payload fields.
//
// Thread-safety: pure functions.
#ifndef ATTRIB_WEBHOOKS_EVENTS_H_
#define ATTRIB_WEBHOOKS_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "engine/mutation.h"

namespace attrib::webhooks {

struct Event {
  std::string id;    // "evt_<seq>"
  std::string type;  // "connection.created", ...
  uint64_t shop = 0;
  uint64_t seq = 0;
  engine::TimeMs occurred_at = 0;  // The change's made_at.
  std::string body;                // The JSON payload, as delivered.
};

// "evt_<seq>".
std::string EventId(uint64_t seq);

// The event of log record `seq`, or nullopt for records that have none.
std::optional<Event> EventOf(uint64_t seq, const engine::Mutation& mutation);

}  // namespace attrib::webhooks

#endif  // ATTRIB_WEBHOOKS_EVENTS_H_
