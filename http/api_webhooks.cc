// http/api_webhooks.cc: the webhook endpoint resources and the change feed of the
// HTTP API (issue 13; see api.h and README "Webhooks", "Change feed"):
//   POST   /v1/shops/{shop}/webhooks                      create (the secret, once)
//   GET    /v1/shops/{shop}/webhooks                      list
//   GET    /v1/shops/{shop}/webhooks/{id}                 get, with recent deliveries
//   PATCH  /v1/shops/{shop}/webhooks/{id}                 url, event_types, enabled
//   DELETE /v1/shops/{shop}/webhooks/{id}                 delete
//   POST   /v1/shops/{shop}/webhooks/{id}/rotate_secret   a new secret (the old one
//                                                         keeps signing for 24 h)
//   GET    /v1/changes?from=SEQ&limit=N                   committed changes, JSON lines
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "http/api_internal.h"
#include "http/json_in.h"
#include "http/json_out.h"
#include "persistence/mutation_codec.h"
#include "webhooks/events.h"

namespace attrib::http::internal {
namespace {

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;
// One page of the change feed at most (the client continues from `next`).
constexpr size_t kMaxChangesPerPage = 10'000;

// "ep_12" or "12".
absl::StatusOr<uint64_t> EndpointId(absl::string_view text) {
  if (absl::StartsWith(text, "ep_")) text.remove_prefix(3);
  uint64_t id = 0;
  if (!absl::SimpleAtoi(text, &id) || id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("id: '", text, "' is not a webhook endpoint id (ep_<number>)"));
  }
  return id;
}

absl::StatusOr<std::optional<std::vector<std::string>>> EventTypes(const rapidjson::Value& doc) {
  if (!doc.HasMember("event_types")) return std::optional<std::vector<std::string>>();
  const rapidjson::Value& v = doc["event_types"];
  if (!v.IsArray()) return FieldError("event_types", "must be an array of strings");
  std::vector<std::string> out;
  for (const rapidjson::Value& t : v.GetArray()) {
    if (!t.IsString()) return FieldError("event_types", "must be an array of strings");
    out.emplace_back(t.GetString(), t.GetStringLength());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

void EndpointJson(JsonOut& j, const engine::WebhookEndpoint& e,
                  const std::optional<service::WebhookDelivery>& d, bool with_secret) {
  j.w().StartObject();
  j.Str("id", absl::StrCat("ep_", e.id));
  j.Id("shop", e.shop);
  j.Str("url", e.url);
  j.Key("event_types");
  j.w().StartArray();
  for (const std::string& t : engine::WebhookEventNames(e.event_mask)) {
    j.w().String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  }
  j.w().EndArray();
  j.Bool("enabled", e.enabled);
  if (!e.enabled && !e.disabled_reason.empty()) j.Str("disabled_reason", e.disabled_reason);
  if (with_secret) j.Str("secret", e.secret);
  j.Time("created_at", e.created_at);
  j.Time("updated_at", e.updated_at);
  if (e.previous_secret_expires_at > 0) {
    j.Time("previous_secret_expires_at", e.previous_secret_expires_at);
  }
  if (d) {
    j.Key("delivery");
    j.w().StartObject();
    j.Id("cursor", d->cursor);
    j.Uint("delivered", d->delivered);
    j.Uint("attempts", d->attempts);
    j.Uint("failures", d->failures);
    if (!d->last_error.empty()) j.Str("last_error", d->last_error);
    j.Key("recent");
    j.w().StartArray();
    for (const service::WebhookAttempt& a : d->recent) {
      j.w().StartObject();
      j.Str("event_id", a.event_id);
      j.Id("seq", a.seq);
      j.Time("at", a.at);
      if (a.http_status != 0) j.Uint("http_status", static_cast<uint64_t>(a.http_status));
      j.Bool("ok", a.error.empty());
      if (!a.error.empty()) j.Str("error", a.error);
      j.w().EndObject();
    }
    j.w().EndArray();
    j.w().EndObject();
  }
  j.w().EndObject();
}

absl::StatusCode EndpointReply(const engine::WebhookEndpoint& e, bool with_secret, Ctx& c) {
  JsonOut j(&c.out->body);
  EndpointJson(j, e, std::nullopt, with_secret);
  return kOk;
}

// The body of a create or a patch: url, event_types, enabled (each optional here).
absl::Status EndpointBody(Ctx& c, engine::WebhookEndpointPatch* out) {
  rapidjson::Document doc;
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return s;
  if (absl::Status s = ParseObject(c.body, &doc); !s.ok()) return s;
  if (absl::Status s = OnlyFields(doc, {"url", "event_types", "enabled"}); !s.ok()) return s;
  auto url = GetString(doc, "url");
  auto enabled = GetBool(doc, "enabled");
  auto types = EventTypes(doc);
  for (const absl::Status& s : {url.status(), enabled.status(), types.status()}) {
    if (!s.ok()) return s;
  }
  if (url->has_value()) out->url.emplace((*url)->data(), (*url)->size());
  out->event_types = *std::move(types);
  out->enabled = *enabled;
  return absl::OkStatus();
}

}  // namespace

absl::StatusCode CreateWebhook(Ctx& c) {
  engine::WebhookEndpointPatch body;
  if (absl::Status s = EndpointBody(c, &body); !s.ok()) return BadRequest(s, c.out);
  if (!body.url) return BadRequest(FieldError("url", "required"), c.out);
  engine::WebhookEndpointRequest r;
  r.shop = c.shop;
  r.url = *body.url;
  if (body.event_types) r.event_types = *body.event_types;
  r.enabled = body.enabled.value_or(true);
  absl::StatusOr<engine::WebhookEndpoint> e = c.sv->CreateWebhookEndpoint(*c.call, r);
  if (!e.ok()) return Failed(e.status(), c.out);
  c.out->status = 201;
  return EndpointReply(*e, /*with_secret=*/true, c);
}

absl::StatusCode ListWebhooks(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<std::vector<service::WebhookEndpointInfo>> list =
      c.sv->ListWebhookEndpoints(*c.call, c.shop);
  if (!list.ok()) return Failed(list.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Key("items");
  j.w().StartArray();
  for (const service::WebhookEndpointInfo& info : *list) {
    EndpointJson(j, info.endpoint, info.delivery, false);
  }
  j.w().EndArray();
  j.w().EndObject();
  return kOk;
}

absl::StatusCode GetWebhook(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<uint64_t> id = EndpointId(c.param);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  absl::StatusOr<service::WebhookEndpointInfo> info =
      c.sv->GetWebhookEndpoint(*c.call, c.shop, *id);
  if (!info.ok()) return Failed(info.status(), c.out);
  JsonOut j(&c.out->body);
  EndpointJson(j, info->endpoint, info->delivery, false);
  return kOk;
}

absl::StatusCode PatchWebhook(Ctx& c) {
  absl::StatusOr<uint64_t> id = EndpointId(c.param);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  engine::WebhookEndpointPatch p;
  if (absl::Status s = EndpointBody(c, &p); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<engine::WebhookEndpoint> e =
      c.sv->UpdateWebhookEndpoint(*c.call, c.shop, *id, p);
  if (!e.ok()) return Failed(e.status(), c.out);
  return EndpointReply(*e, false, c);
}

absl::StatusCode DeleteWebhook(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<uint64_t> id = EndpointId(c.param);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  if (absl::Status s = c.sv->DeleteWebhookEndpoint(*c.call, c.shop, *id); !s.ok()) {
    return Failed(s, c.out);
  }
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Str("id", absl::StrCat("ep_", *id));
  j.Bool("deleted", true);
  j.w().EndObject();
  return kOk;
}

absl::StatusCode RotateWebhookSecret(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({}); !s.ok()) return BadRequest(s, c.out);
  absl::StatusOr<uint64_t> id = EndpointId(c.param);
  if (!id.ok()) return BadRequest(id.status(), c.out);
  absl::StatusOr<engine::WebhookEndpoint> e = c.sv->RotateWebhookSecret(*c.call, c.shop, *id);
  if (!e.ok()) return Failed(e.status(), c.out);
  return EndpointReply(*e, /*with_secret=*/true, c);
}

absl::StatusCode Changes(Ctx& c) {
  if (absl::Status s = c.OnlyQuery({"from", "limit"}); !s.ok()) return BadRequest(s, c.out);
  uint64_t from = 1;
  size_t limit = 1000;
  if (const std::string* f = c.Query("from")) {
    if (!absl::SimpleAtoi(*f, &from)) {
      return BadRequest(FieldError("from", "must be a sequence number"), c.out);
    }
  }
  if (const std::string* l = c.Query("limit")) {
    if (!absl::SimpleAtoi(*l, &limit) || limit == 0 || limit > kMaxChangesPerPage) {
      return BadRequest(FieldError("limit", "must be in [1, 10000]"), c.out);
    }
  }
  uint64_t next = 0;
  absl::StatusOr<std::vector<service::Change>> changes =
      c.sv->Changes(*c.call, from, limit, &next);
  if (!changes.ok()) {
    if (changes.status().code() == absl::StatusCode::kOutOfRange) {
      Problem(changes.status(), c.out, 410);
      return changes.status().code();
    }
    return Failed(changes.status(), c.out);
  }
  c.out->content_type = "application/x-ndjson";
  std::string& out = c.out->body;
  for (const service::Change& ch : *changes) {
    JsonOut j(&out);
    j.w().StartObject();
    j.Id("seq", ch.seq);
    j.Id("shop", service::ShopOfChange(ch.mutation));
    j.Time("made_at", ch.mutation.made_at);
    const std::optional<webhooks::Event> event = webhooks::EventOf(ch.seq, ch.mutation);
    if (event) j.Str("type", event->type);
    // Every change, described as `attrib-restore history` does (secrets omitted).
    j.Str("change", persistence::DescribeMutation(ch.mutation));
    if (event) {
      // The webhook payload's data, verbatim.
      j.Key("event");
      j.w().RawValue(event->body.data(), event->body.size(), rapidjson::kObjectType);
    }
    j.w().EndObject();
    out.push_back('\n');
  }
  // The last line says where to continue (also when nothing was new).
  JsonOut j(&out);
  j.w().StartObject();
  j.Id("next", next);
  j.w().EndObject();
  out.push_back('\n');
  return kOk;
}

}  // namespace attrib::http::internal

namespace attrib::http::internal {

bool RouteWebhooks(Ctx& c, absl::string_view method, const std::vector<std::string>& seg,
                   service::Operation* op, absl::StatusCode* code) {
  using service::Operation;
  const size_t n = seg.size();
  const bool get = method == "GET" || method == "HEAD", post = method == "POST";
  const auto not_allowed = [&](const char* allow) {
    c.out->allow = allow;
    Problem(absl::InvalidArgumentError(
                absl::StrCat(method, ": the methods here are ", allow)),
            c.out, 405);
    return absl::StatusCode::kInvalidArgument;
  };
  if (n == 2 && seg[0] == "v1" && seg[1] == "changes") {
    *op = Operation::kChanges;
    *code = get ? Changes(c) : not_allowed("GET");
    return true;
  }
  if (n < 4 || n > 6 || seg[0] != "v1" || seg[1] != "shops" || seg[3] != "webhooks") {
    return false;
  }
  absl::StatusOr<uint64_t> shop = ParseId("shop", seg[2]);
  if (!shop.ok()) {
    *code = BadRequest(shop.status(), c.out);
    return true;
  }
  c.shop = *shop;
  if (n == 4) {
    *op = post ? Operation::kCreateWebhook : Operation::kListWebhooks;
    *code = post ? CreateWebhook(c) : get ? ListWebhooks(c) : not_allowed("GET, POST");
    return true;
  }
  c.param = seg[4];
  if (n == 5) {
    *op = get                   ? Operation::kGetWebhook
          : method == "DELETE"  ? Operation::kDeleteWebhook
                                : Operation::kUpdateWebhook;
    *code = get                   ? GetWebhook(c)
            : method == "PATCH"   ? PatchWebhook(c)
            : method == "DELETE"  ? DeleteWebhook(c)
                                  : not_allowed("GET, PATCH, DELETE");
    return true;
  }
  if (seg[5] != "rotate_secret") return false;
  *op = Operation::kRotateWebhookSecret;
  *code = post ? RotateWebhookSecret(c) : not_allowed("POST");
  return true;
}

}  // namespace attrib::http::internal
