// http/api.cc: routing, problem documents and the server-level resources of the
// HTTP API (see api.h). The shop resources are in api_connections.cc,
// api_orders.cc, api_affiliates.cc and api_customers.cc.
#include "http/api.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/not_primary.h"
#include "common/status_code_name.h"
#include "engine/engine.h"
#include "http/api_internal.h"
#include "http/json_in.h"
#include "http/json_out.h"

namespace attrib::http {
namespace {

using service::Operation;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding; `plus_is_space` for query strings (form encoding).
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

const char* TitleOf(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Internal Server Error";
  }
}

// /v1/shops/{shop}/affiliates[/{id}[/disable]] (api_affiliates.cc).
template <typename NotAllowed>
absl::StatusCode RouteAffiliates(internal::Ctx& c, const std::vector<std::string>& seg,
                                 absl::string_view method, Operation* op,
                                 const NotAllowed& not_allowed) {
  const bool get = method == "GET" || method == "HEAD";
  const size_t n = seg.size();
  if (n == 4) {
    *op = Operation::kSearchAffiliates;
    return get ? internal::SearchAffiliates(c) : not_allowed("GET");
  }
  c.param = seg[4];
  if (n == 5) {
    const bool put = method == "PUT";
    *op = put ? Operation::kPutAffiliate : Operation::kGetAffiliate;
    return get ? internal::GetAffiliate(c) : put ? internal::PutAffiliate(c)
                                                 : not_allowed("GET, PUT");
  }
  if (seg[5] != "disable") return absl::StatusCode::kNotFound;
  *op = Operation::kDisableAffiliate;
  return method == "POST" ? internal::DisableAffiliate(c) : not_allowed("POST");
}

// The customer-identifier rule an engine error names by its leading word
// ("identifier_in_use: ..."; README "Customers and identifiers"), for the problem's
// `reason`; "" for other errors.
absl::string_view RuleOf(absl::string_view message) {
  static constexpr absl::string_view kRules[] = {"identifier_in_use", "last_identifier",
                                                 "unlink_primary", "merge_conflict"};
  for (absl::string_view rule : kRules) {
    if (message.size() > rule.size() && message.substr(0, rule.size()) == rule &&
        (message[rule.size()] == ':' || message[rule.size()] == '=')) {
      return rule;
    }
  }
  if (absl::StartsWith(message, "merge refused:")) return "merge_refused";
  return "";
}

void Healthz(ApiResponse* out) { out->body = "{\"status\":\"ok\"}"; }

// The caller's own scope, so a client (the admin page) knows which shops it may
// ask about: {"admin":true,..} or {"admin":false,"shop":"7",..}.
void Whoami(const service::Scope& scope, ApiResponse* out) {
  JsonOut j(&out->body);
  j.w().StartObject();
  j.Bool("admin", scope.admin);
  if (!scope.admin) j.Id("shop", scope.shop);
  j.Bool("read_only", scope.read_only);
  j.w().EndObject();
}

void Readyz(const service::Service& sv, ApiResponse* out) {
  const absl::Status s = sv.Ready();
  if (!s.ok()) return Problem(s, out, 503);
  out->body = "{\"status\":\"ready\"}";
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument: return 422;
    case absl::StatusCode::kOutOfRange: return 422;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kFailedPrecondition: return 409;
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kDeadlineExceeded: return 503;
    default: return 500;
  }
}

void Problem(const absl::Status& status, ApiResponse* out, int http_status) {
  // Issue 16: a write sent to a replica is 421 Misdirected Request, naming the primary.
  const std::optional<PrimaryAddresses> not_primary = GetNotPrimary(status);
  const int code = not_primary.has_value() ? 421
                   : http_status != 0      ? http_status
                                           : HttpStatusOf(status.code());
  out->status = code;
  out->content_type = "application/problem+json";
  out->body.clear();
  JsonOut j(&out->body);
  const absl::string_view name =
      not_primary.has_value() ? "not_primary" : StatusCodeName(status.code());
  j.w().StartObject();
  j.Str("type", absl::StrCat("urn:attrib:problem:", name));
  j.Str("title", TitleOf(code));
  j.Uint("status", static_cast<uint64_t>(code));
  j.Str("detail", status.message());
  j.Str("code", name);
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    const std::string field = FieldOf(status);
    if (!field.empty()) j.Str("field", field);
  }
  if (const absl::string_view reason = RuleOf(status.message()); !reason.empty()) {
    j.Str("reason", reason);
  }
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    if (const auto payload = status.GetPayload(engine::kCurrentAffiliatePayload)) {
      uint64_t affiliate = 0;
      if (absl::SimpleAtoi(std::string(*payload), &affiliate)) {
        j.Id("current_affiliate", affiliate);
      }
    }
  }
  if (not_primary.has_value()) j.Str("primary", not_primary->http);
  j.w().EndObject();
}

namespace internal {

const std::string* Ctx::Query(absl::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

absl::Status Ctx::OnlyQuery(std::initializer_list<absl::string_view> allowed) const {
  for (const auto& [k, v] : query) {
    bool known = false;
    for (absl::string_view a : allowed) known = known || a == k;
    if (!known) return FieldError(k, "unknown query parameter");
  }
  return absl::OkStatus();
}

absl::Status Ctx::QueryLimit(uint32_t max, uint32_t* limit) const {
  const std::string* v = Query("limit");
  if (v == nullptr) return absl::OkStatus();
  uint32_t n = 0;
  if (!absl::SimpleAtoi(*v, &n) || n == 0 || n > max) {
    return FieldError("limit", absl::StrCat("must be in [1, ", max, "]"));
  }
  *limit = n;
  return absl::OkStatus();
}

absl::StatusCode BadRequest(const absl::Status& status, ApiResponse* out) {
  Problem(status, out, 400);
  return status.code();
}

absl::StatusCode Failed(const absl::Status& status, ApiResponse* out) {
  Problem(status, out);
  return status.code();
}

absl::StatusCode Stats(Ctx& c) {
  absl::StatusOr<service::StatsResult> s = c.sv->Stats(*c.call);
  if (!s.ok()) return Failed(s.status(), c.out);
  JsonOut j(&c.out->body);
  j.w().StartObject();
  j.Uint("connections", s->connections);
  j.Uint("remembered_orders", s->remembered_orders);
  j.Uint("open_clients", s->facts.open_clients);
  j.Uint("accepted_clients", s->facts.accepted_clients);
  j.Uint("rss_bytes", s->rss_bytes);
  j.Uint("store_table_bytes", s->store_table_bytes);
  j.Uint("store_arena_bytes", s->store_arena_bytes);
  j.Int("uptime_ms", s->facts.uptime_ms);
  j.Int("oldest_durability_wait_ms", s->facts.oldest_durability_wait_ms);
  j.Key("operations");
  j.w().StartArray();
  for (const service::OperationCount& op : s->operations) {
    j.w().StartObject();
    j.Str("operation", op.operation);
    j.Str("result", op.result);
    j.Uint("count", op.count);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.w().EndObject();
  return absl::StatusCode::kOk;
}

}  // namespace internal

void Api::Handle(const ApiRequest& request, ApiResponse* out) {
  using internal::Ctx;
  absl::string_view target = request.target;
  absl::string_view query_text;
  if (const size_t q = target.find('?'); q != absl::string_view::npos) {
    query_text = target.substr(q + 1);
    target = target.substr(0, q);
  }
  const absl::string_view method = request.method;
  // Unmetered resources: probes and the API's description.
  if (target == "/healthz" || target == "/readyz" || target == "/v1/openapi.json") {
    if (method != "GET" && method != "HEAD") {
      out->allow = "GET, HEAD";
      return Problem(absl::InvalidArgumentError(absl::StrCat(method, " ", target,
                                                             ": only GET and HEAD")),
                     out, 405);
    }
    if (target == "/healthz") return Healthz(out);
    if (target == "/readyz") return Readyz(*service_, out);
    out->body.assign(OpenApiDocument().data(), OpenApiDocument().size());
    return;
  }

  service::Call call = service_->Begin(request.scope);
  Ctx c;
  c.sv = service_;
  c.call = &call;
  c.body = request.body;
  c.out = out;
  Operation op = Operation::kUnknown;
  absl::StatusCode code = absl::StatusCode::kOk;
  const auto not_allowed = [&](const char* allow) {
    out->allow = allow;
    Problem(absl::InvalidArgumentError(
                absl::StrCat(method, " ", target, ": the methods here are ", allow)),
            out, 405);
    return absl::StatusCode::kInvalidArgument;
  };

  // Query parameters, decoded.
  bool bad_query = false;
  if (!query_text.empty()) {
    for (absl::string_view pair : absl::StrSplit(query_text, '&', absl::SkipEmpty())) {
      const size_t eq = pair.find('=');
      std::string k, v;
      if (!PercentDecode(pair.substr(0, eq), true, &k) ||
          (eq != absl::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &v))) {
        bad_query = true;
        break;
      }
      c.query.emplace_back(std::move(k), std::move(v));
    }
  }
  // Issue 16, read-your-writes: ?min_seq=N on any read (taken out here, so the
  // resources never see it).
  uint64_t min_seq = 0;
  absl::Status bad_min_seq;
  for (auto it = c.query.begin(); it != c.query.end(); ++it) {
    if (it->first != "min_seq") continue;
    if (!absl::SimpleAtoi(it->second, &min_seq)) {
      bad_min_seq = FieldError("min_seq", "expected a sequence number (an Attrib-Seq header)");
    }
    c.query.erase(it);
    break;
  }
  std::vector<std::string> seg;
  bool bad_path = false;
  for (absl::string_view s : absl::StrSplit(target.substr(target.empty() ? 0 : 1), '/')) {
    std::string decoded;
    if (!PercentDecode(s, false, &decoded)) bad_path = true;
    seg.push_back(std::move(decoded));
  }

  const bool post = method == "POST", get = method == "GET" || method == "HEAD";
  // The reads a replica serves: refused past --max_replica_lag, or when min_seq is
  // not applied yet (issue 16). No wait here: the HTTP API has one thread, which a
  // wait would hold for every connection; the client retries.
  const bool read = seg.size() >= 4 && seg[0] == "v1" && seg[1] == "shops" &&
                    (get || (post && seg.size() == 4 && seg[3] == "lookups"));
  absl::Status read_refused;
  if (read && !bad_query && !bad_path && bad_min_seq.ok()) {
    read_refused = service_->CanRead(min_seq, /*may_wait=*/false);
  }
  if (bad_query || bad_path) {
    code = internal::BadRequest(
        absl::InvalidArgumentError("target: a bad percent-encoding in the path or query"), out);
  } else if (!bad_min_seq.ok()) {
    code = internal::BadRequest(bad_min_seq, out);
  } else if (!read_refused.ok()) {
    code = internal::Failed(read_refused, out);
  } else if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "whoami") {
    op = Operation::kAuth;
    if (get) {
      Whoami(request.scope, out);
    } else {
      code = not_allowed("GET");
    }
  } else if (internal::RouteWebhooks(c, method, seg, &op, &code)) {
    // Webhook endpoints and the change feed (api_webhooks.cc), counted under their
    // HTTP-only operations (service/operation.h).
  } else if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "stats") {
    op = Operation::kStats;
    code = get ? internal::Stats(c) : not_allowed("GET");
  } else if (seg.size() >= 4 && seg[0] == "v1" && seg[1] == "shops") {
    absl::StatusOr<uint64_t> shop = ParseId("shop", seg[2]);
    const absl::string_view res = seg[3];
    const size_t n = seg.size();
    if (!shop.ok()) {
      code = internal::BadRequest(shop.status(), out);
    } else {
      c.shop = *shop;
      if (n == 4 && res == "connections") {
        op = post ? Operation::kConnect : Operation::kList;
        code = post ? internal::Connect(c) : get ? internal::List(c) : not_allowed("GET, POST");
      } else if (n == 6 && res == "customers" && seg[5] == "connection") {
        c.param = seg[4];
        const bool del = method == "DELETE";
        op = del ? Operation::kDisconnect : Operation::kLookup;
        code = get ? internal::Lookup(c) : del ? internal::Disconnect(c)
                                               : not_allowed("GET, DELETE");
      } else if (internal::RouteCustomers(c, method, seg, &op, &code, not_allowed)) {
        // Customers and identifiers (api_customers.cc).
      } else if (n == 4 && res == "lookups") {
        op = Operation::kLookupBatch;
        code = post ? internal::LookupBatch(c) : not_allowed("POST");
      } else if (n == 4 && res == "orders") {
        op = Operation::kAttribute;
        code = post ? internal::Attribute(c) : not_allowed("POST");
      } else if (n == 5 && res == "orders") {
        c.param = seg[4];
        op = Operation::kExplain;
        code = get ? internal::Explain(c) : not_allowed("GET");
      } else if (n == 6 && res == "orders" && seg[5] == "reverse") {
        c.param = seg[4];
        op = Operation::kReverse;
        code = post ? internal::Reverse(c) : not_allowed("POST");
      } else if (n == 4 && res == "settings") {
        const bool patch = method == "PATCH";
        op = patch ? Operation::kPutSettings : Operation::kGetSettings;
        code = get ? internal::GetSettings(c) : patch ? internal::PatchSettings(c)
                                                      : not_allowed("GET, PATCH");
      } else if (res == "affiliates" && n >= 4 && n <= 6) {
        code = RouteAffiliates(c, seg, method, &op, not_allowed);
      } else if (n == 4 && res == "counts") {
        op = Operation::kCount;
        code = get ? internal::Counts(c) : not_allowed("GET");
      } else {
        code = absl::StatusCode::kNotFound;
      }
    }
  } else {
    code = absl::StatusCode::kNotFound;
  }
  if (code == absl::StatusCode::kNotFound && op == Operation::kUnknown) {
    Problem(absl::NotFoundError(absl::StrCat(target, ": no such resource (see /v1/openapi.json)")),
            out);
  }
  out->wait_for_seq = call.wait_for_seq;
  service_->Finish(call, op, code);
}

}  // namespace attrib::http
