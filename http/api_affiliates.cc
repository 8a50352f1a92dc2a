// http/api_affiliates.cc: the affiliate directory resources of the HTTP API (issue
// 12's operations, as the native protocol has them; see api.h):
//   PUT  /v1/shops/{shop}/affiliates/{id}          create or replace (201 / 200)
//   GET  /v1/shops/{shop}/affiliates/{id}          one entry
//   POST /v1/shops/{shop}/affiliates/{id}/disable  disable
//   GET  /v1/shops/{shop}/affiliates               search (name_prefix, email, status,
//                                                  cursor, limit)
// Every entry carries its connected-customer count (`connections`).
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

void AffiliateJson(JsonOut& j, const engine::Affiliate& a, uint64_t connections) {
  j.w().StartObject();
  j.Id("shop", a.shop);
  j.Id("id", a.id);
  j.Str("name", a.name);
  j.Key("emails");
  j.w().StartArray();
  for (const std::string& e : a.emails) {
    j.w().String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
  }
  j.w().EndArray();
  j.Str("status", engine::AffiliateStatusName(a.status));
  j.Time("created_at", a.created_at);
  j.Uint("connections", connections);
  j.w().EndObject();
}

// {"affiliate":..,"created":..,"removed_connections":[..]} of a write.
void ResultJson(JsonOut& j, const engine::PutAffiliateResult& r, uint64_t connections) {
  j.w().StartObject();
  j.Key("affiliate");
  AffiliateJson(j, r.affiliate, connections);
  j.Bool("created", r.created);
  j.Key("removed_connections");
  j.w().StartArray();
  for (const engine::Connection& c : r.removed_connections) j.Connection(engine::AsView(c));
  j.w().EndArray();
  j.w().EndObject();
}

absl::StatusOr<engine::AffiliateId> PathId(const Ctx& c) { return ParseId("id", c.param); }

}  // namespace

absl::StatusCode PutAffiliate(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::AffiliateId> id = PathId(c);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"name", "emails", "status", "created_at"}); !s.ok()) {
    return BadRequest(s, c.out);
  }
  engine::PutAffiliateRequest req;
  req.shop = c.shop;
  req.id = *id;
  auto name = GetString(doc, "name");
  auto status = GetString(doc, "status");
  auto created_at = GetTime(doc, "created_at");
  for (const absl::Status& s : {name.status(), status.status(), created_at.status()}) {
    if (!s.ok()) return BadRequest(s, c.out);
  }
  if (name->has_value()) req.name.assign((*name)->data(), (*name)->size());
  if (status->has_value()) {
    absl::StatusOr<engine::AffiliateStatus> v = engine::ParseAffiliateStatus(**status);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    req.status = *v;
  }
  req.created_at = *created_at;
  if (doc.HasMember("emails") && !doc["emails"].IsNull()) {
    const rapidjson::Value& list = doc["emails"];
    if (!list.IsArray()) return BadRequest(FieldError("emails", "must be an array of strings"), c.out);
    if (list.Size() > engine::kMaxAffiliateEmails) {
      return BadRequest(FieldError("emails", absl::StrCat(list.Size(), " given, the limit is ",
                                                          engine::kMaxAffiliateEmails)),
                        c.out);
    }
    for (const rapidjson::Value& e : list.GetArray()) {
      if (!e.IsString()) {
        return BadRequest(
            FieldError(absl::StrCat("emails[", req.emails.size(), "]"), "must be a string"), c.out);
      }
      req.emails.emplace_back(e.GetString(), e.GetStringLength());
    }
  }
  uint64_t connections = 0;
  absl::StatusOr<engine::PutAffiliateResult> r = c.sv->PutAffiliate(*c.call, req, &connections);
  if (!r.ok()) return Failed(r.status(), c.out);
  c.out->status = r->created ? 201 : 200;
  JsonOut j(&c.out->body);
  ResultJson(j, *r, connections);
  return kOk;
}

absl::StatusCode GetAffiliate(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::AffiliateId> id = PathId(c);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  absl::StatusOr<engine::AffiliateInfo> info = c.sv->GetAffiliate(*c.call, c.shop, *id);
  if (!info.ok()) return Failed(info.status(), c.out);
  JsonOut j(&c.out->body);
  AffiliateJson(j, info->affiliate, info->connections);
  return kOk;
}

absl::StatusCode DisableAffiliate(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::AffiliateId> id = PathId(c);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  uint64_t connections = 0;
  absl::StatusOr<engine::PutAffiliateResult> r = c.sv->SetAffiliateStatus(
      *c.call, c.shop, *id, engine::AffiliateStatus::kDisabled, &connections);
  if (!r.ok()) return Failed(r.status(), c.out);
  JsonOut j(&c.out->body);
  ResultJson(j, *r, connections);
  return kOk;
}

absl::StatusCode SearchAffiliates(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({"name_prefix", "email", "id", "status", "cursor", "limit"});
      !s.ok()) {
    return BadRequest(s, c.out);
  }
  engine::AffiliateQuery q;
  q.shop = c.shop;
  if (const std::string* v = c.Query("name_prefix")) q.name_prefix = *v;
  if (const std::string* v = c.Query("email")) q.email = *v;
  if (const std::string* v = c.Query("id")) {
    absl::StatusOr<uint64_t> id = ParseId("id", *v);
    if (!id.ok()) return BadRequest(id.status(), c.out);
    q.id = *id;
  }
  if (const std::string* v = c.Query("status")) {
    absl::StatusOr<engine::AffiliateStatus> s = engine::ParseAffiliateStatus(*v);
    if (!s.ok()) return BadRequest(s.status(), c.out);
    q.status = *s;
  }
  if (const std::string* v = c.Query("cursor")) q.cursor = *v;
  if (absl::Status s = c.QueryLimit(engine::kMaxAffiliatePage, &q.limit); !s.ok()) {
    return BadRequest(s, c.out);
  }
  absl::StatusOr<engine::AffiliatePage> page = c.sv->SearchAffiliates(*c.call, q);
  if (!page.ok()) return Failed(page.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Key("items");
  j.w().StartArray();
  for (const engine::AffiliateInfo& item : page->items) {
    AffiliateJson(j, item.affiliate, item.connections);
  }
  j.w().EndArray();
  j.NextCursor(page->next_cursor);
  j.w().EndObject();
  return kOk;
}

}  // namespace attrib::http::internal
