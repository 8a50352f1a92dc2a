// http/api_customer_directory.cc: the customer directory's resources of the HTTP API
// (issue 12; see api.h), over the service layer (service_customers.cc):
//   GET   /v1/shops/{shop}/customers?email_prefix=|name_prefix=|external_id=
//         &limit=&cursor=            search the shop's customers, paged
//   GET   /v1/shops/{shop}/customers/{customer}   (api_customers.cc) with "directory"
//   PATCH /v1/shops/{shop}/customers/{customer}   {"name": "..."}: the directory name
// A customer's "directory" member is its record (name, first and last order seen,
// orders seen), or null when it has none (customer_directory off, or never seen).
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "http/api_internal.h"
#include "http/json_in.h"
#include "http/json_out.h"

namespace attrib::http::internal {
namespace {

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;

void WriteRecord(JsonOut& j, const engine::CustomerRecord& r) {
  j.w().StartObject();
  WriteCustomerMembers(j, r.customer);
  j.Key("directory");
  if (r.directory.has_value()) {
    const engine::CustomerEntry& e = *r.directory;
    j.w().StartObject();
    j.Str("name", e.name);
    j.Time("first_order_at", e.first_order_at);
    j.Time("last_order_at", e.last_order_at);
    j.Uint("orders_seen", e.orders_seen);
    j.w().EndObject();
  } else {
    j.w().Null();
  }
  j.w().EndObject();
}

}  // namespace

void CustomerRecordReply(const engine::CustomerRecord& record, ApiResponse* out) {
  JsonOut j(&out->body);
  j.w().StartObject();
  j.Key("customer");
  WriteRecord(j, record);
  j.w().EndObject();
}

absl::StatusCode SearchCustomers(Ctx& c) {
  if (absl::Status s =
          c.OnlyQuery({"email_prefix", "name_prefix", "external_id", "limit", "cursor"});
      !s.ok()) {
    return BadRequest(s, c.out);
  }
  engine::CustomerQuery q;
  q.shop = c.shop;
  if (const std::string* v = c.Query("email_prefix")) q.email_prefix = *v;
  if (const std::string* v = c.Query("name_prefix")) q.name_prefix = *v;
  if (const std::string* v = c.Query("external_id")) q.external_id = *v;
  if (const std::string* v = c.Query("cursor")) q.cursor = *v;
  if (absl::Status s = c.QueryLimit(engine::kMaxCustomerSearchLimit, &q.limit); !s.ok()) {
    return BadRequest(s, c.out);
  }
  absl::StatusOr<engine::CustomerPage> page = c.sv->SearchCustomers(*c.call, q);
  if (!page.ok()) return Failed(page.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Key("items");
  j.w().StartArray();
  for (const engine::CustomerRecord& r : page->items) WriteRecord(j, r);
  j.w().EndArray();
  j.NextCursor(page->next_cursor);
  j.w().EndObject();
  return kOk;
}

absl::StatusCode PatchCustomer(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"name"}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<std::optional<absl::string_view>> name = GetString(doc, "name");
  if (!name.ok()) return BadRequest(name.status(), c.out);
  if (!name->has_value()) {
    return BadRequest(FieldError("name", "required (the customer's name; \"\" clears it)"),
                      c.out);
  }
  absl::StatusOr<engine::CustomerRecord> record =
      c.sv->PutCustomerName(*c.call, c.shop, CustomerOfSegment(c.param), **name);
  if (!record.ok()) return Failed(record.status(), c.out);
  CustomerRecordReply(*record, c.out);
  return kOk;
}

}  // namespace attrib::http::internal
