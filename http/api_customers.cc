// http/api_customers.cc: the customer and identifier resources of the HTTP API
// (issue 12; see api.h): a customer by any identifier, link an identifier, unlink
// one, merge two customers. A customer in a path is an email or `external_id:ID`
// (percent-encoded), as attribctl names it; in a body it is an object with `email`
// or `external_id`. Each handler decodes, calls the service layer
// (service_identity.cc), and encodes; the rules are the engine's.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/identity_index.h"
#include "http/api_internal.h"
#include "http/json_in.h"
#include "http/json_out.h"

namespace attrib::http::internal {
void WriteCustomer(JsonOut& j, const engine::CustomerInfo& c);
namespace {

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;
constexpr absl::string_view kExternalIdSegmentPrefix = "external_id:";

void WriteKey(JsonOut& j, absl::string_view name, absl::string_view key) {
  j.Str(name, engine::DescribeIdentifierKey(key));
}

void WriteOptionalConnection(JsonOut& j, absl::string_view name,
                             const std::optional<engine::Connection>& c) {
  j.Key(name);
  if (c) {
    j.Connection(engine::AsView(*c));
  } else {
    j.w().Null();
  }
}

void CustomerReply(const engine::CustomerInfo& info, ApiResponse* out) {
  JsonOut j(&out->body);
  j.w().StartObject();
  j.Key("customer");
  WriteCustomer(j, info);
  j.w().EndObject();
}

// A body's (or a body member's) customer: {"email": ..} and/or {"external_id": ..};
// `exactly_one` for an identifier to link. `where` prefixes field names ("from.").
absl::StatusOr<engine::CustomerRef> CustomerOfObject(const rapidjson::Value& o,
                                                     absl::string_view where,
                                                     bool exactly_one) {
  if (!o.IsObject()) {
    return FieldError(absl::StrCat(where.empty() ? "body" : where.substr(0, where.size() - 1)),
                      "must be an object with email or external_id");
  }
  if (absl::Status s = OnlyFields(o, {"email", "external_id"}); !s.ok()) {
    return where.empty() ? s : FieldError(absl::StrCat(where, FieldOf(s)), s.message());
  }
  auto email = GetString(o, "email");
  auto external_id = GetString(o, "external_id");
  for (const absl::Status& s : {email.status(), external_id.status()}) {
    if (!s.ok()) return where.empty() ? s : FieldError(absl::StrCat(where, FieldOf(s)), s.message());
  }
  engine::CustomerRef ref;
  if (email->has_value()) ref.email.emplace((*email)->data(), (*email)->size());
  if (external_id->has_value()) ref.external_id.emplace((*external_id)->data(), (*external_id)->size());
  if (!ref.email && !ref.external_id) {
    return FieldError(absl::StrCat(where, "email"), "required: give email or external_id");
  }
  if (exactly_one && ref.email && ref.external_id) {
    return FieldError(absl::StrCat(where, "external_id"),
                      "give exactly one of email or external_id");
  }
  return ref;
}

// A write's customer after it (Get may race a later change; it is a read).
absl::StatusCode CustomerAfter(Ctx& c, const engine::CustomerRef& who, JsonOut& j) {
  absl::StatusOr<engine::CustomerInfo> info = c.sv->GetCustomer(*c.call, c.shop, who);
  j.Key("customer");
  if (info.ok()) {
    WriteCustomer(j, *info);
  } else {
    j.w().Null();
  }
  return kOk;
}

}  // namespace

// {"shop","primary","emails","external_id","connection"}.
void WriteCustomerMembers(JsonOut& j, const engine::CustomerInfo& c) {
  j.Id("shop", c.shop);
  WriteKey(j, "primary", c.primary);
  j.Key("emails");
  j.w().StartArray();
  for (const std::string& e : c.emails) {
    j.w().String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
  }
  j.w().EndArray();
  j.Key("external_id");
  if (c.external_id.empty()) {
    j.w().Null();
  } else {
    j.w().String(c.external_id.data(), static_cast<rapidjson::SizeType>(c.external_id.size()));
  }
  WriteOptionalConnection(j, "connection", c.connection);
}
void WriteCustomer(JsonOut& j, const engine::CustomerInfo& c) {
  j.w().StartObject();
  WriteCustomerMembers(j, c);
  j.w().EndObject();
}


bool IsExternalIdSegment(absl::string_view segment) {
  return absl::StartsWith(segment, kExternalIdSegmentPrefix);
}

engine::CustomerRef CustomerOfSegment(absl::string_view segment) {
  engine::CustomerRef ref;
  if (IsExternalIdSegment(segment)) {
    ref.external_id = std::string(segment.substr(kExternalIdSegmentPrefix.size()));
  } else {
    ref.email = std::string(segment);
  }
  return ref;
}

void WriteIdentityChange(JsonOut& j, const engine::IdentityChange& change) {
  j.w().StartObject();
  j.Bool("linked", change.linked);
  if (change.linked) WriteKey(j, "linked_identifier", change.linked_identifier);
  j.Bool("merged", change.merge.has_value());
  if (change.merge) {
    const engine::MergeReport& m = *change.merge;
    j.Key("merge");
    j.w().StartObject();
    WriteKey(j, "survivor", m.survivor);
    WriteKey(j, "loser", m.loser);
    j.Key("moved");
    j.w().StartArray();
    for (const std::string& k : m.moved) {
      const std::string text = engine::DescribeIdentifierKey(k);
      j.w().String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    }
    j.w().EndArray();
    j.Bool("conflict", m.conflict);
    j.Str("rule", engine::MergeConflictRuleName(m.rule));
    WriteOptionalConnection(j, "kept_connection", m.kept_connection);
    WriteOptionalConnection(j, "lost_connection", m.lost_connection);
    j.w().EndObject();
  }
  if (!change.not_joined.empty()) j.Str("not_joined", change.not_joined);
  j.w().EndObject();
}

absl::StatusCode GetCustomer(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::CustomerRecord> record =
      c.sv->GetCustomerRecord(*c.call, c.shop, CustomerOfSegment(c.param));
  if (!record.ok()) return Failed(record.status(), c.out);
  CustomerRecordReply(*record, c.out);
  return kOk;
}

absl::StatusCode LinkIdentifier(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::CustomerRef> id = CustomerOfObject(doc, "", /*exactly_one=*/true);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  absl::StatusOr<engine::CustomerInfo> info =
      c.sv->LinkIdentifier(*c.call, c.shop, CustomerOfSegment(c.param), *id);
  if (!info.ok()) return Failed(info.status(), c.out);
  c.out->status = 201;
  CustomerReply(*info, c.out);
  return kOk;
}

absl::StatusCode UnlinkIdentifier(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  const engine::CustomerRef id = CustomerOfSegment(c.param2);
  // The identifier must be one of the path's customer's: a DELETE names what it
  // removes from where, so a stale client cannot unlink another customer's alias.
  absl::StatusOr<engine::CustomerInfo> owner =
      c.sv->GetCustomer(*c.call, c.shop, CustomerOfSegment(c.param));
  if (!owner.ok()) return Failed(owner.status(), c.out);
  absl::StatusOr<engine::CustomerInfo> of_id = c.sv->GetCustomer(*c.call, c.shop, id);
  if (!of_id.ok()) return Failed(of_id.status(), c.out);
  if (of_id->primary != owner->primary) {
    return Failed(absl::NotFoundError(absl::StrCat(
                      "not_found: ", c.param2, " is not an identifier of customer ",
                      engine::DescribeIdentifierKey(owner->primary))),
                  c.out);
  }
  absl::StatusOr<engine::CustomerInfo> info = c.sv->UnlinkIdentifier(*c.call, c.shop, id);
  if (!info.ok()) return Failed(info.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Str("unlinked", c.param2);
  j.Key("customer");
  WriteCustomer(j, *info);
  j.w().EndObject();
  return kOk;
}

absl::StatusCode MergeCustomers(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"from", "keep"}); !s.ok()) return BadRequest(s, c.out);
  if (!doc.HasMember("from")) {
    return BadRequest(FieldError("from", "required: the customer to merge into this one"),
                      c.out);
  }
  engine::MergeRequest req;
  req.shop = c.shop;
  req.into = CustomerOfSegment(c.param);
  absl::StatusOr<engine::CustomerRef> from = CustomerOfObject(doc["from"], "from.", false);
  if (!from.ok()) return BadRequest(from.status(), c.out);
  req.from = *std::move(from);
  auto keep = GetString(doc, "keep");
  if (!keep.ok()) return BadRequest(keep.status(), c.out);
  if (keep->has_value()) {
    const absl::string_view k = **keep;
    if (k == "into") {
      req.keep = engine::MergeKeep::kInto;
    } else if (k == "from") {
      req.keep = engine::MergeKeep::kFrom;
    } else if (k == "earliest") {
      req.keep = engine::MergeKeep::kEarliest;
    } else if (k != "shop_rule") {
      return BadRequest(FieldError("keep", absl::StrCat("'", k,
                                                        "' is not one of shop_rule, into, "
                                                        "from, earliest")),
                        c.out);
    }
  }
  absl::StatusOr<engine::IdentityChange> change = c.sv->MergeCustomers(*c.call, req);
  if (!change.ok()) return Failed(change.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Key("identity");
  WriteIdentityChange(j, *change);
  CustomerAfter(c, req.into, j);
  j.w().EndObject();
  return kOk;
}

bool RouteCustomers(Ctx& c, absl::string_view method, const std::vector<std::string>& seg,
                    service::Operation* op, absl::StatusCode* code,
                    absl::FunctionRef<absl::StatusCode(const char*)> not_allowed) {
  using service::Operation;
  const size_t n = seg.size();
  const bool get = method == "GET" || method == "HEAD";
  if (n == 4 && seg[3] == "customers") {
    *op = Operation::kSearchCustomers;
    *code = get ? SearchCustomers(c) : not_allowed("GET");
    return true;
  }
  if (n < 5 || n > 7 || seg[3] != "customers") return false;
  const bool post = method == "POST";
  c.param = seg[4];
  if (n == 5) {
    const bool patch = method == "PATCH";
    *op = patch ? Operation::kPutCustomer : Operation::kGetCustomer;
    *code = get ? GetCustomer(c) : patch ? PatchCustomer(c) : not_allowed("GET, PATCH");
    return true;
  }
  if (n == 6 && seg[5] == "identifiers") {
    *op = Operation::kLinkIdentifier;
    *code = post ? LinkIdentifier(c) : not_allowed("POST");
    return true;
  }
  if (n == 7 && seg[5] == "identifiers") {
    c.param2 = seg[6];
    *op = Operation::kUnlinkIdentifier;
    *code = method == "DELETE" ? UnlinkIdentifier(c) : not_allowed("DELETE");
    return true;
  }
  if (n == 6 && seg[5] == "merge") {
    *op = Operation::kMergeCustomers;
    *code = post ? MergeCustomers(c) : not_allowed("POST");
    return true;
  }
  return false;
}

}  // namespace attrib::http::internal
