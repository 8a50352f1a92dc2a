// http/api_orders.cc: the order and settings resources of the HTTP API (attribute,
// explain, reverse, settings get and patch; see api.h).
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "http/api_internal.h"
#include "http/json_in.h"
#include "http/json_out.h"

namespace attrib::http::internal {
namespace {

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;

// {"decision": ...} plus the members `more` writes.
template <typename More>
void DecisionReply(const engine::AttributionDecision& d, ApiResponse* out, More more) {
  JsonOut j(&out->body);
  j.w().StartObject();
  j.Key("decision");
  j.Decision(d);
  more(j);
  j.w().EndObject();
}

void SettingsReply(engine::ShopId shop, const engine::ShopSettings& s, ApiResponse* out) {
  JsonOut j(&out->body);
  j.w().StartObject();
  j.Id("shop", shop);
  j.Key("settings");
  j.Settings(s);
  j.w().EndObject();
}

}  // namespace

absl::StatusCode Attribute(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"order_id", "email", "external_id", "name",
                                        "referral_affiliate", "customer_is_new", "ordered_at"});
      !s.ok()) {
    return BadRequest(s, c.out);
  }
  auto order_id = GetString(doc, "order_id");
  auto email = GetString(doc, "email");
  auto external_id = GetString(doc, "external_id");
  auto referral = GetId(doc, "referral_affiliate");
  auto is_new = GetBool(doc, "customer_is_new");
  auto ordered_at = GetTime(doc, "ordered_at");
  auto name = GetString(doc, "name");
  for (const absl::Status& s : {order_id.status(), email.status(), external_id.status(),
                                referral.status(), is_new.status(), ordered_at.status(),
                                name.status()}) {
    if (!s.ok()) return BadRequest(s, c.out);
  }
  if (!order_id->has_value()) return BadRequest(FieldError("order_id", "required"), c.out);
  engine::AttributeRequest req;
  req.shop = c.shop;
  req.order_id.assign((*order_id)->data(), (*order_id)->size());
  if (email->has_value() && !(*email)->empty()) req.email.emplace((*email)->data(), (*email)->size());
  if (external_id->has_value() && !(*external_id)->empty()) {
    req.external_id.emplace((*external_id)->data(), (*external_id)->size());
  }
  if (referral->has_value() && **referral != 0) req.referral_affiliate = **referral;
  req.customer_is_new = *is_new;
  req.ordered_at = *ordered_at;
  if (name->has_value() && !(*name)->empty()) req.name.emplace((*name)->data(), (*name)->size());
  absl::StatusOr<engine::AttributeResult> r = c.sv->Attribute(*c.call, req);
  if (!r.ok()) return Failed(r.status(), c.out);
  // A repeat of an order id answers with the first decision.
  c.out->status = r->duplicate ? 200 : 201;
  DecisionReply(r->decision, c.out, [&](JsonOut& j) {
    j.Bool("duplicate", r->duplicate);
    if (HasIdentityChange(r->identity)) {  // Email and external id: the link or merge.
      j.Key("identity");
      WriteIdentityChange(j, r->identity);
    }
  });
  return kOk;
}

absl::StatusCode Explain(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::AttributionDecision> d = c.sv->Explain(*c.call, c.shop, c.param);
  if (!d.ok()) return Failed(d.status(), c.out);
  DecisionReply(*d, c.out, [](JsonOut&) {});
  return kOk;
}

absl::StatusCode Reverse(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  // No body is needed; an empty object is accepted.
  if (!c.body->empty()) {
    rapidjson::Document doc;
    if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
    if (absl::Status s = OnlyFields(doc, {}); !s.ok()) return BadRequest(s, c.out);
  }
  absl::StatusOr<engine::ReverseResult> r = c.sv->Reverse(*c.call, c.shop, c.param);
  if (!r.ok()) return Failed(r.status(), c.out);
  DecisionReply(r->decision, c.out, [&](JsonOut& j) {
    j.Bool("uncounted", r->uncounted);
    j.Bool("already_reversed", r->already_reversed);
  });
  return kOk;
}

absl::StatusCode GetSettings(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::ShopSettings> s = c.sv->GetSettings(*c.call, c.shop);
  if (!s.ok()) return Failed(s.status(), c.out);
  SettingsReply(c.shop, *s, c.out);
  return kOk;
}

absl::StatusCode PatchSettings(Ctx& c) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return BadRequest(s, c.out);
  if (absl::Status s = OnlyFields(doc, {"connections_enabled", "auto_connect",
                                        "auto_connect_new_customers_only", "validity_days",
                                        "validity_mode", "validity_max_orders", "precedence",
                                        "require_registered_affiliates", "block_self_referrals",
                                        "on_customer_becomes_affiliate",
                                        "auto_link_identifiers", "merge_conflict",
                                        "customer_directory"});
      !s.ok()) {
    return BadRequest(s, c.out);
  }
  engine::ShopSettingsPatch patch;
  auto enabled = GetBool(doc, "connections_enabled");
  auto auto_connect = GetBool(doc, "auto_connect");
  auto new_only = GetBool(doc, "auto_connect_new_customers_only");
  auto days = GetUint32(doc, "validity_days");
  auto mode = GetString(doc, "validity_mode");
  auto max_orders = GetUint32(doc, "validity_max_orders");
  auto precedence = GetString(doc, "precedence");
  auto registered = GetBool(doc, "require_registered_affiliates");
  auto block_self = GetBool(doc, "block_self_referrals");
  auto becomes = GetString(doc, "on_customer_becomes_affiliate");
  auto auto_link = GetBool(doc, "auto_link_identifiers");
  auto merge_conflict = GetString(doc, "merge_conflict");
  auto directory = GetBool(doc, "customer_directory");
  for (const absl::Status& s : {enabled.status(), auto_connect.status(), new_only.status(),
                                days.status(), mode.status(), max_orders.status(),
                                precedence.status(), registered.status(), block_self.status(),
                                becomes.status(), auto_link.status(),
                                merge_conflict.status(), directory.status()}) {
    if (!s.ok()) return BadRequest(s, c.out);
  }
  patch.connections_enabled = *enabled;
  patch.auto_connect = *auto_connect;
  patch.auto_connect_new_customers_only = *new_only;
  patch.validity_days = *days;
  patch.validity_max_orders = *max_orders;
  patch.require_registered_affiliates = *registered;
  patch.block_self_referrals = *block_self;
  patch.auto_link_identifiers = *auto_link;
  patch.customer_directory = *directory;
  if (merge_conflict->has_value()) {
    absl::StatusOr<engine::MergeConflictRule> v = engine::ParseMergeConflictRule(**merge_conflict);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    patch.merge_conflict = *v;
  }
  if (becomes->has_value()) {
    absl::StatusOr<engine::CustomerBecomesAffiliate> v =
        engine::ParseCustomerBecomesAffiliate(**becomes);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    patch.on_customer_becomes_affiliate = *v;
  }
  if (mode->has_value()) {
    absl::StatusOr<engine::ValidityMode> v = engine::ParseValidityMode(**mode);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    patch.validity_mode = *v;
  }
  if (precedence->has_value()) {
    absl::StatusOr<engine::Precedence> v = engine::ParsePrecedence(**precedence);
    if (!v.ok()) return BadRequest(v.status(), c.out);
    patch.precedence = *v;
  }
  absl::StatusOr<engine::ShopSettings> s = c.sv->PutSettings(*c.call, c.shop, patch);
  if (!s.ok()) return Failed(s.status(), c.out);
  SettingsReply(c.shop, *s, c.out);
  return kOk;
}

}  // namespace attrib::http::internal
