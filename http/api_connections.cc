// http/api_connections.cc: the connection resources of the HTTP API (connect, list,
// lookup, disconnect, batch lookups, counts; see api.h). Lookups are written from the
// store's views while the engine's visitor runs: no copy of a connection.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "http/api_internal.h"
#include "http/json_in.h"
#include "http/json_out.h"

namespace attrib::http::internal {
namespace {

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;

absl::string_view OutcomeName(engine::ConnectResult::Outcome o) {
  switch (o) {
    case engine::ConnectResult::Outcome::kCreated: return "created";
    case engine::ConnectResult::Outcome::kUnchanged: return "unchanged";
    case engine::ConnectResult::Outcome::kReplaced: return "replaced";
  }
  return "unknown";
}

// {"email":..,"found":..,"connection":..,"status":..} of one looked-up email.
void LookupItem(JsonOut& j, absl::string_view email, const engine::LookupItemView& item) {
  j.Str("email", email);
  j.Bool("found", item.found);
  if (!item.found) return;
  j.Key("connection");
  j.Connection(item.connection);
  j.Key("status");
  j.Status(item.status);
}

absl::Status OptionalQueryTime(const Ctx& c, std::optional<engine::TimeMs>* at) {
  if (const std::string* v = c.Query("at")) {
    absl::StatusOr<engine::TimeMs> t = ParseTime("at", *v);
    if (!t.ok()) return t.status();
    *at = *t;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusCode Connect(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"email", "external_id", "affiliate", "source",
                                        "mode", "connected_at", "name"});
      !s.ok()) {
    return BadRequest(s, c.out);
  }
  engine::ConnectRequest req;
  req.shop = c.shop;
  req.source = engine::Source::kApi;
  auto email = GetString(doc, "email");
  auto external_id = GetString(doc, "external_id");
  auto affiliate = GetId(doc, "affiliate");
  auto source = GetString(doc, "source");
  auto mode = GetString(doc, "mode");
  auto connected_at = GetTime(doc, "connected_at");
  auto name = GetString(doc, "name");
  for (const absl::Status& s : {email.status(), external_id.status(), affiliate.status(),
                                source.status(), mode.status(), connected_at.status(),
                                name.status()}) {
    if (!s.ok()) return BadRequest(s, c.out);
  }
  if (!email->has_value() && !external_id->has_value()) {
    return BadRequest(FieldError("email", "required: give email, external_id, or both"), c.out);
  }
  if (!affiliate->has_value()) return BadRequest(FieldError("affiliate", "required"), c.out);
  if (email->has_value()) req.email.assign((*email)->data(), (*email)->size());
  if (external_id->has_value()) req.external_id.emplace((*external_id)->data(), (*external_id)->size());
  req.affiliate = **affiliate;
  if (source->has_value()) {
    absl::StatusOr<engine::Source> v = engine::ParseSource(**source);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    req.source = *v;
  }
  if (mode->has_value()) {
    absl::StatusOr<engine::ConnectMode> v = engine::ParseConnectMode(**mode);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    req.mode = *v;
  }
  req.connected_at = *connected_at;
  if (name->has_value()) req.name.emplace((*name)->data(), (*name)->size());

  absl::StatusOr<engine::ConnectResult> r = c.sv->Connect(*c.call, req);
  if (!r.ok()) return Failed(r.status(), c.out);
  c.out->status = r->outcome == engine::ConnectResult::Outcome::kCreated ? 201 : 200;
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Str("outcome", OutcomeName(r->outcome));
  j.Key("connection");
  j.Connection(engine::AsView(r->connection));
  if (r->outcome == engine::ConnectResult::Outcome::kReplaced) {
    j.Id("previous_affiliate", r->previous_affiliate);
    j.Str("previous_activity", engine::InactiveReasonName(r->previous_inactive));
  }
  if (HasIdentityChange(r->identity)) {
    j.Key("identity");
    WriteIdentityChange(j, r->identity);
  }
  j.w().EndObject();
  return kOk;
}

absl::StatusCode List(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({"affiliate", "email_prefix", "source", "cursor", "limit",
                                    "at"});
      !s.ok()) {
    return BadRequest(s, c.out);
  }
  engine::ListRequest req;
  req.shop = c.shop;
  if (const std::string* v = c.Query("affiliate")) {
    absl::StatusOr<uint64_t> id = ParseId("affiliate", *v);
    if (!id.ok()) return BadRequest(id.status(), c.out);
    req.affiliate = *id;
  }
  if (const std::string* v = c.Query("email_prefix")) req.email_prefix = *v;
  if (const std::string* v = c.Query("source")) {
    absl::StatusOr<engine::Source> s = engine::ParseSource(*v);
    if (!s.ok()) return BadRequest(s.status(), c.out);
    req.source = *s;
  }
  if (const std::string* v = c.Query("cursor")) req.cursor = *v;
  if (absl::Status s = c.QueryLimit(engine::kMaxListPage, &req.limit); !s.ok()) {
    return BadRequest(s, c.out);
  }
  if (absl::Status s = OptionalQueryTime(c, &req.at); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::ListPage> page = c.sv->List(*c.call, req);
  if (!page.ok()) return Failed(page.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Key("items");
  j.w().StartArray();
  for (const engine::ListItem& item : page->items) {
    j.w().StartObject();
    j.Key("connection");
    j.Connection(engine::AsView(item.connection));
    j.Key("status");
    j.Status(item.status);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.NextCursor(page->next_cursor);
  j.w().EndObject();
  return kOk;
}

absl::StatusCode Lookup(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({"at"}); !s.ok()) return BadRequest(s, c.out);
  std::optional<engine::TimeMs> at;
  if (absl::Status s = OptionalQueryTime(c, &at); !s.ok()) return BadRequest(s, c.out);
  if (IsExternalIdSegment(c.param)) {  // A customer by external id (issue 12).
    const engine::CustomerRef who = CustomerOfSegment(c.param);
    absl::StatusOr<engine::LookupResult> r = c.sv->LookupCustomer(*c.call, c.shop, who, at);
    if (!r.ok()) return Failed(r.status(), c.out);
    JsonOut j(&c.out->body);
    j.w().StartObject();
    j.Str("external_id", *who.external_id);
    j.Bool("found", r->found);
    if (r->found) {
      j.Key("connection");
      j.Connection(engine::AsView(r->connection));
      j.Key("status");
      j.Status(r->status);
    }
    j.w().EndObject();
    return kOk;
  }
  absl::Status invalid;
  const absl::string_view one[1] = {c.param};
  JsonOut j(&c.out->body);
  const absl::Status s = c.sv->LookupEach(
      *c.call, c.shop, one, at, [&](size_t, const engine::LookupItemView& item) {
        if (item.invalid != nullptr) {
          invalid = *item.invalid;
          return;
        }
        j.w().StartObject();
        LookupItem(j, c.param, item);
        j.w().EndObject();
      });
  if (!s.ok()) return Failed(s, c.out);
  if (!invalid.ok()) return Failed(invalid, c.out);
  return kOk;
}

absl::StatusCode Disconnect(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::DisconnectResult> r =
      IsExternalIdSegment(c.param)
          ? c.sv->DisconnectCustomer(*c.call, c.shop, CustomerOfSegment(c.param))
          : c.sv->Disconnect(*c.call, c.shop, c.param);
  if (!r.ok()) return Failed(r.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Key("disconnected");
  j.Connection(engine::AsView(r->removed));
  j.w().EndObject();
  return kOk;
}

absl::StatusCode LookupBatch(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"emails", "at"}); !s.ok()) return BadRequest(s, c.out);
  auto at = GetTime(doc, "at");
  if (!at.ok()) return BadRequest(at.status(), c.out);
  if (!doc.HasMember("emails") || !doc["emails"].IsArray()) {
    return BadRequest(FieldError("emails", "required: an array of strings"), c.out);
  }
  const rapidjson::Value& list = doc["emails"];
  if (list.Size() > engine::kMaxBatchLookup) {
    return BadRequest(FieldError("emails", absl::StrCat(list.Size(), " in one batch, the limit is ",
                                                        engine::kMaxBatchLookup)),
                      c.out);
  }
  thread_local std::vector<absl::string_view> views;
  views.clear();
  for (const rapidjson::Value& e : list.GetArray()) {
    if (!e.IsString()) {
      return BadRequest(FieldError(absl::StrCat("emails[", views.size(), "]"), "must be a string"),
                        c.out);
    }
    views.emplace_back(e.GetString(), e.GetStringLength());
  }
  // Items arrive in no particular order: each is written to its own buffer slot,
  // then joined in request order.
  thread_local std::vector<std::string> items;
  items.resize(views.size());
  const absl::Status s = c.sv->LookupEach(
      *c.call, c.shop, views, *at, [&](size_t i, const engine::LookupItemView& item) {
        items[i].clear();
        JsonOut j(&items[i]);
        j.w().StartObject();
        if (item.invalid != nullptr) {
          j.Str("email", views[i]);
          j.Key("error");
          j.w().StartObject();
          j.Str("code", StatusCodeName(item.invalid->code()));
          j.Str("detail", item.invalid->message());
          j.w().EndObject();
        } else {
          LookupItem(j, views[i], item);
        }
        j.w().EndObject();
      });
  if (!s.ok()) {
    views.clear();
    return Failed(s, c.out);
  }
  std::string& body = c.out->body;
  body = "{\"items\":[";
  for (size_t i = 0; i < views.size(); ++i) {
    if (i > 0) body.push_back(',');
    body.append(items[i]);
  }
  body.append("]}");
  views.clear();
  return kOk;
}

absl::StatusCode Counts(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({"affiliate"}); !s.ok()) return BadRequest(s, c.out);
  service::CountRequest req{c.shop, 0};
  if (const std::string* v = c.Query("affiliate")) {
    absl::StatusOr<uint64_t> id = ParseId("affiliate", *v);
    if (!id.ok()) return BadRequest(id.status(), c.out);
    req.affiliate = *id;
  }
  absl::StatusOr<service::CountResult> r = c.sv->Count(*c.call, req);
  if (!r.ok()) return Failed(r.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Id("shop", c.shop);
  if (req.affiliate != 0) j.Id("affiliate", req.affiliate);
  j.Uint("connections", r->connections);
  if (req.affiliate == 0) {
    j.Key("by_affiliate");
    j.w().StartArray();
    for (const auto& [affiliate, n] : r->by_affiliate) {
      j.w().StartObject();
      j.Id("affiliate", affiliate);
      j.Uint("connections", n);
      j.w().EndObject();
    }
    j.w().EndArray();
  }
  j.w().EndObject();
  return kOk;
}

}  // namespace attrib::http::internal
