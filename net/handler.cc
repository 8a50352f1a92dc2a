// net/handler.cc: decodes a request frame, runs it through the service layer, builds
// the reply (see handler.h). Wire <-> engine value conversions are in handler_convert.cc.
//
// Hot path (lookup): no heap allocation here. The request is read in place from the
// frame (FlatArrayMessageReader), emails go to the engine as views of the frame's
// bytes, and results are written straight into the caller's MessageBuilder. Batch
// lookups need a vector of views; it is a per-thread scratch vector, so it allocates
// only when a thread first sees a larger batch.
//
// Every read of the request happens before the engine is called, so a malformed
// message (a Cap'n Proto exception) is always detected before anything changes.
//
// Thread-safety: HandleFrame() may run concurrently on many threads; the only shared
// state is the service (thread-safe).
#include "net/handler.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "capnp/serialize.h"
#include "kj/exception.h"
#include "net/frame.h"
#include "net/handler_affiliates.h"
#include "net/handler_identity.h"
#include "net/handler_convert.h"
#include "net/handler_lookup.h"

namespace attrib::net {
namespace {

using engine::TimeMs;
using service::Call;
using service::Operation;
using service::Service;
using Out = wire::Response::Builder;
using R = wire::Request;

constexpr wire::ErrorCode kOk = wire::ErrorCode::OK;
constexpr size_t kKnownOperations = static_cast<size_t>(R::PUT_CUSTOMER) + 1;
static_assert(kKnownOperations + 2 + service::kHttpOnlyOperations ==
                  RequestHandler::kOperationSlots,
              "a Request member was added: extend service::Operation");
static_assert(static_cast<size_t>(wire::ErrorCode::UNAUTHENTICATED) + 1 ==
              RequestHandler::kCodeSlots);
// service::Operation's rows are the Request union's ordinals + 1.
#define ATTRIB_SAME_ROW(member, op) \
  static_assert(static_cast<size_t>(R::member) + 1 == static_cast<size_t>(Operation::op))
ATTRIB_SAME_ROW(CONNECT, kConnect);
ATTRIB_SAME_ROW(DISCONNECT, kDisconnect);
ATTRIB_SAME_ROW(LOOKUP, kLookup);
ATTRIB_SAME_ROW(LOOKUP_BATCH, kLookupBatch);
ATTRIB_SAME_ROW(LIST, kList);
ATTRIB_SAME_ROW(COUNT, kCount);
ATTRIB_SAME_ROW(GET_SETTINGS, kGetSettings);
ATTRIB_SAME_ROW(PUT_SETTINGS, kPutSettings);
ATTRIB_SAME_ROW(ATTRIBUTE, kAttribute);
ATTRIB_SAME_ROW(REVERSE, kReverse);
ATTRIB_SAME_ROW(EXPLAIN, kExplain);
ATTRIB_SAME_ROW(STATS, kStats);
ATTRIB_SAME_ROW(SNAPSHOT, kSnapshot);
ATTRIB_SAME_ROW(AUTH, kAuth);
ATTRIB_SAME_ROW(PING, kPing);
ATTRIB_SAME_ROW(PUT_AFFILIATE, kPutAffiliate);
ATTRIB_SAME_ROW(GET_AFFILIATE, kGetAffiliate);
ATTRIB_SAME_ROW(DISABLE_AFFILIATE, kDisableAffiliate);
ATTRIB_SAME_ROW(SEARCH_AFFILIATES, kSearchAffiliates);
ATTRIB_SAME_ROW(GET_CUSTOMER, kGetCustomer);
ATTRIB_SAME_ROW(LINK_IDENTIFIER, kLinkIdentifier);
ATTRIB_SAME_ROW(UNLINK_IDENTIFIER, kUnlinkIdentifier);
ATTRIB_SAME_ROW(MERGE_CUSTOMERS, kMergeCustomers);
ATTRIB_SAME_ROW(PROMOTE, kPromote);
ATTRIB_SAME_ROW(SEARCH_CUSTOMERS, kSearchCustomers);
ATTRIB_SAME_ROW(PUT_CUSTOMER, kPutCustomer);
#undef ATTRIB_SAME_ROW

// The reads a replica serves (issue 16): they honour Request.minSeq and
// --max_replica_lag. Stats, ping and auth are answered whatever the lag.
bool IsRead(R::Which which) {
  switch (which) {
    case R::LOOKUP: case R::LOOKUP_BATCH: case R::LIST: case R::COUNT:
    case R::GET_SETTINGS: case R::EXPLAIN: case R::GET_AFFILIATE:
    case R::SEARCH_AFFILIATES: case R::GET_CUSTOMER: case R::SEARCH_CUSTOMERS:
      return true;
    default:
      return false;
  }
}

// ------------------------------------------------------------------ Operations

wire::ErrorCode DoConnect(Service& sv, Call& call, wire::ConnectRequest::Reader r, Out out) {
  engine::ConnectRequest req;
  req.shop = r.getShop();
  const absl::string_view email = View(r.getEmail());
  req.email.assign(email.data(), email.size());  // The engine's request owns it.
  if (r.getExternalId().size() > 0) req.external_id = std::string(View(r.getExternalId()));
  req.affiliate = r.getAffiliate();
  absl::StatusOr<engine::Source> source = FromWire(r.getSource(), "source");
  if (!source.ok()) return Fail(source.status(), out);
  req.source = *source;
  absl::StatusOr<engine::ConnectMode> mode = FromWire(r.getMode(), "mode");
  if (!mode.ok()) return Fail(mode.status(), out);
  req.mode = *mode;
  req.connected_at = OptionalTime(r.getConnectedAt());
  if (r.hasName()) {  // Null: keep the replaced connection's name; "" clears it.
    const absl::string_view name = View(r.getName());
    req.name.emplace(name.data(), name.size());
  }
  absl::StatusOr<engine::ConnectResult> result = sv.Connect(call, req);
  if (!result.ok()) return Fail(result.status(), out);
  wire::ConnectResult::Builder w = out.initConnect();
  w.setOutcome(ToWire(result->outcome));
  ToWire(result->connection, w.initConnection());
  w.setPreviousAffiliate(result->previous_affiliate);
  w.setPreviousActivity(ToWire(result->previous_inactive));
  internal::ToWire(result->identity, w.initIdentity());
  return kOk;
}

wire::ErrorCode DoDisconnect(Service& sv, Call& call, wire::LookupRequest::Reader r, Out out) {
  if (r.getExternalId().size() > 0) return internal::DoDisconnectCustomer(sv, call, r, out);
  absl::StatusOr<engine::DisconnectResult> result = sv.Disconnect(call, r.getShop(), View(r.getEmail()));
  if (!result.ok()) return Fail(result.status(), out);
  ToWire(result->removed, out.initDisconnect());
  return kOk;
}

wire::ErrorCode DoList(const Service& sv, const Call& call, wire::ListRequest::Reader r, Out out) {
  engine::ListRequest req;
  if (absl::Status s = FromWire(r, &req); !s.ok()) return Fail(s, out);
  absl::StatusOr<engine::ListPage> page = sv.List(call, req);
  if (!page.ok()) return Fail(page.status(), out);
  wire::ListResult::Builder w = out.initList();
  capnp::List<wire::ListItem>::Builder items = w.initItems(page->items.size());
  for (size_t i = 0; i < page->items.size(); ++i) {
    ToWire(page->items[i].connection, items[i].initConnection());
    ToWire(page->items[i].status, items[i].initStatus());
  }
  if (!page->next_cursor.empty()) {
    CopyText(page->next_cursor, w.initNextCursor(page->next_cursor.size()));
  }
  return kOk;
}

wire::ErrorCode DoCount(const Service& sv, const Call& call, wire::CountRequest::Reader r,
                        Out out) {
  absl::StatusOr<service::CountResult> count =
      sv.Count(call, service::CountRequest{r.getShop(), r.getAffiliate()});
  if (!count.ok()) return Fail(count.status(), out);
  wire::CountResult::Builder w = out.initCount();
  w.setConnections(count->connections);
  if (r.getAffiliate() != 0) return kOk;
  capnp::List<wire::AffiliateCount>::Builder list =
      w.initByAffiliate(count->by_affiliate.size());
  for (size_t i = 0; i < count->by_affiliate.size(); ++i) {
    list[i].setAffiliate(count->by_affiliate[i].first);
    list[i].setConnections(count->by_affiliate[i].second);
  }
  return kOk;
}

wire::ErrorCode DoGetSettings(const Service& sv, const Call& call, wire::ShopRef::Reader r, Out out) {
  absl::StatusOr<engine::ShopSettings> settings = sv.GetSettings(call, r.getShop());
  if (!settings.ok()) return Fail(settings.status(), out);
  ToWire(*settings, out.initSettings());
  return kOk;
}

wire::ErrorCode DoPutSettings(Service& sv, Call& call, wire::PutSettingsRequest::Reader r, Out out) {
  absl::StatusOr<engine::ShopSettingsPatch> patch = FromWire(r.getPatch());
  if (!patch.ok()) return Fail(patch.status(), out);
  absl::StatusOr<engine::ShopSettings> settings = sv.PutSettings(call, r.getShop(), *patch);
  if (!settings.ok()) return Fail(settings.status(), out);
  ToWire(*settings, out.initSettings());
  return kOk;
}

wire::ErrorCode DoAttribute(Service& sv, Call& call, wire::AttributeRequest::Reader r, Out out) {
  engine::AttributeRequest req;
  req.shop = r.getShop();
  const absl::string_view order_id = View(r.getOrderId());
  req.order_id.assign(order_id.data(), order_id.size());
  const absl::string_view email = View(r.getEmail());
  if (!email.empty()) req.email.emplace(email.data(), email.size());
  if (r.getExternalId().size() > 0) req.external_id = std::string(View(r.getExternalId()));
  if (r.getReferralAffiliate() != 0) req.referral_affiliate = r.getReferralAffiliate();
  absl::StatusOr<std::optional<bool>> is_new = FromWire(r.getCustomerIsNew(), "customer_is_new");
  if (!is_new.ok()) return Fail(is_new.status(), out);
  req.customer_is_new = *is_new;
  req.ordered_at = OptionalTime(r.getOrderedAt());
  if (r.getName().size() > 0) req.name = std::string(View(r.getName()));
  absl::StatusOr<engine::AttributeResult> result = sv.Attribute(call, req);
  if (!result.ok()) return Fail(result.status(), out);
  wire::AttributeResult::Builder w = out.initAttribute();
  ToWire(result->decision, w.initDecision());
  w.setDuplicate(result->duplicate);
  internal::ToWire(result->identity, w.initIdentity());
  return kOk;
}

wire::ErrorCode DoReverse(Service& sv, Call& call, wire::OrderRef::Reader r, Out out) {
  absl::StatusOr<engine::ReverseResult> result = sv.Reverse(call, r.getShop(), View(r.getOrderId()));
  if (!result.ok()) return Fail(result.status(), out);
  wire::ReverseResult::Builder w = out.initReverse();
  ToWire(result->decision, w.initDecision());
  w.setUncounted(result->uncounted);
  w.setAlreadyReversed(result->already_reversed);
  return kOk;
}

wire::ErrorCode DoExplain(Service& sv, const Call& call, wire::OrderRef::Reader r, Out out) {
  absl::StatusOr<engine::AttributionDecision> d = sv.Explain(call, r.getShop(), View(r.getOrderId()));
  if (!d.ok()) return Fail(d.status(), out);
  ToWire(*d, out.initExplain());
  return kOk;
}

wire::ErrorCode DoStats(const Service& sv, const Call& call, Out out) {
  absl::StatusOr<service::StatsResult> stats = sv.Stats(call);
  if (!stats.ok()) return Fail(stats.status(), out);
  wire::StatsResult::Builder w = out.initStats();
  w.setConnections(stats->connections);
  w.setRememberedOrders(stats->remembered_orders);
  if (stats->has_server_facts) {
    w.setOpenClients(stats->facts.open_clients);
    w.setAcceptedClients(stats->facts.accepted_clients);
    w.setUptimeMs(stats->facts.uptime_ms);
    w.setOldestDurabilityWaitMs(stats->facts.oldest_durability_wait_ms);
  }
  w.setRssBytes(stats->rss_bytes);
  w.setStoreTableBytes(stats->store_table_bytes);
  w.setStoreArenaBytes(stats->store_arena_bytes);
  capnp::List<wire::OperationCount>::Builder list = w.initOperations(stats->operations.size());
  for (size_t i = 0; i < stats->operations.size(); ++i) {
    const service::OperationCount& c = stats->operations[i];
    CopyText(c.operation, list[i].initOperation(c.operation.size()));
    CopyText(c.result, list[i].initResult(c.result.size()));
    list[i].setCount(c.count);
  }
  return kOk;
}

}  // namespace

// ------------------------------------------------------------------ RequestHandler

RequestHandler::RequestHandler(engine::Engine* engine, HandlerOptions options)
    : owned_service_(std::make_unique<Service>(
          engine, service::ServiceOptions{options.server_facts, options.snapshot,
                                          options.durability})),
      service_(owned_service_.get()),
      options_(std::move(options)) {
  InitKeys();
}

RequestHandler::RequestHandler(Service* service, HandlerOptions options)
    : service_(service), options_(std::move(options)) {
  InitKeys();
}

void RequestHandler::InitKeys() {
  keys_ = options_.api_keys;
  if (keys_ == nullptr && !options_.auth_token.empty()) {
    service::ApiKey key;
    key.name = "auth_token";
    key.sha256 = service::Sha256(options_.auth_token);
    owned_keys_ = std::make_unique<service::ApiKeys>(std::vector<service::ApiKey>{key});
    keys_ = owned_keys_.get();
  }
}

void RequestHandler::HandleFrame(kj::ArrayPtr<const capnp::word> frame, Session* session,
                                 capnp::MessageBuilder* response,
                                 const PreparedFrame* prepared) {
  uint64_t id = 0;
  Operation operation = Operation::kUndecodable;
  wire::ErrorCode code = kOk;
  const bool prepared_lookup = prepared != nullptr && prepared->lookup;
  Call call = service_->Begin(session->scope, prepared_lookup);
  // Cap'n Proto reports a malformed message (a pointer out of bounds, the traversal or
  // nesting limit, a truncated segment) by throwing kj::Exception from whichever
  // getter first meets it; everything that reads the request runs in here.
  try {
    if (prepared_lookup && (keys_ == nullptr || session->authenticated)) {
      // Decoded by PrepareFrames already.
      id = prepared->id;
      wire::Response::Builder out = response->initRoot<wire::Response>();
      out.setId(id);
      if (absl::Status s = service_->CanRead(0, /*may_wait=*/false); !s.ok()) {
        code = Fail(s, out);
      } else {
        code = internal::DoLookup(*service_, call, prepared->key.shop, prepared->email,
                                  prepared->at, &prepared->key, out);
      }
      operation = Operation::kLookup;
    } else {
      capnp::FlatArrayMessageReader reader(frame,
                                           RequestReaderOptions(frame.size() * kWordBytes));
      const wire::Request::Reader request = reader.getRoot<wire::Request>();
      id = request.getId();
      const size_t which = static_cast<size_t>(request.which());
      wire::Response::Builder out = response->initRoot<wire::Response>();
      out.setId(id);
      code = Dispatch(request, session, call, out);
      if (call.wait_for_seq != 0) out.setSeq(call.wait_for_seq);
      operation = which < kKnownOperations ? static_cast<Operation>(which + 1)
                                           : Operation::kUnknown;
      session->wait_for_seq = call.wait_for_seq;
    }
  } catch (const kj::Exception& e) {
    // Counted as "undecodable" whatever member it claimed to be: it was not a valid
    // Request. The stream may be out of step with the client: close after replying.
    code = wire::ErrorCode::INVALID_ARGUMENT;
    const kj::StringPtr description = e.getDescription();
    BuildError(id, code,
               absl::StrCat("request: not a valid Request message: ",
                            absl::string_view(description.cStr(), description.size())),
               response);
    session->close_after_reply = true;
  } catch (const std::exception& e) {
    // Not the client's fault (e.g. out of memory in the engine); still never thrown
    // to the server loop. Closing sheds this client's load.
    operation = Operation::kUndecodable;
    code = wire::ErrorCode::INTERNAL;
    BuildError(id, code, absl::StrCat("internal: ", e.what()), response);
    session->close_after_reply = true;
  }
  service_->Finish(call, operation, FromWireCode(code));
}

// Every read of the request happens before the service is called (a malformed
// message is detected before anything changes); the service applies the scope, the
// durability rules (CanWrite first; call.wait_for_seq after a write) and the engine.
wire::ErrorCode RequestHandler::Dispatch(wire::Request::Reader request, Session* session,
                                         Call& call, wire::Response::Builder out) {
  const R::Which which = request.which();
  if (keys_ != nullptr && !session->authenticated && which != R::AUTH) {
    session->close_after_reply = true;
    return Fail(absl::UnauthenticatedError("auth: this server requires `auth` first"), out);
  }
  Service& sv = *service_;
  if (IsRead(which)) {
    const absl::Status s = sv.CanRead(request.getMinSeq(), /*may_wait=*/true);
    if (!s.ok()) return Fail(s, out);
  }
  switch (which) {
    case R::CONNECT: return DoConnect(sv, call, request.getConnect(), out);
    case R::DISCONNECT: return DoDisconnect(sv, call, request.getDisconnect(), out);
    case R::LOOKUP: {
      const wire::LookupRequest::Reader r = request.getLookup();
      if (r.getExternalId().size() > 0) return internal::DoLookupCustomer(sv, call, r, out);
      return internal::DoLookup(sv, call, r.getShop(), View(r.getEmail()), r.getAt(),
                                nullptr, out);
    }
    case R::LOOKUP_BATCH:
      return internal::DoLookupBatch(sv, call, request.getLookupBatch(), out);
    case R::LIST: return DoList(sv, call, request.getList(), out);
    case R::COUNT: return DoCount(sv, call, request.getCount(), out);
    case R::GET_SETTINGS: return DoGetSettings(sv, call, request.getGetSettings(), out);
    case R::PUT_SETTINGS: return DoPutSettings(sv, call, request.getPutSettings(), out);
    case R::ATTRIBUTE: return DoAttribute(sv, call, request.getAttribute(), out);
    case R::REVERSE: return DoReverse(sv, call, request.getReverse(), out);
    case R::EXPLAIN: return DoExplain(sv, call, request.getExplain(), out);
    case R::STATS: return DoStats(sv, call, out);
    case R::SNAPSHOT: {
      const absl::Status s = sv.Snapshot(call);
      if (!s.ok()) return Fail(s, out);
      out.setSnapshot();
      return kOk;
    }
    case R::AUTH: return Authenticate(request.getAuth(), session, out);
    case R::PING:
      if (absl::Status s = sv.Ping(call); !s.ok()) return Fail(s, out);
      out.setPong();
      return kOk;
    case R::PUT_AFFILIATE:
      return internal::DoPutAffiliate(sv, call, request.getPutAffiliate(), out);
    case R::GET_AFFILIATE:
      return internal::DoGetAffiliate(sv, call, request.getGetAffiliate(), out);
    case R::DISABLE_AFFILIATE:
      return internal::DoDisableAffiliate(sv, call, request.getDisableAffiliate(), out);
    case R::SEARCH_AFFILIATES:
      return internal::DoSearchAffiliates(sv, call, request.getSearchAffiliates(), out);
    case R::GET_CUSTOMER:
      return internal::DoGetCustomer(sv, call, request.getGetCustomer(), out);
    case R::LINK_IDENTIFIER:
      return internal::DoLinkIdentifier(sv, call, request.getLinkIdentifier(), out);
    case R::UNLINK_IDENTIFIER:
      return internal::DoUnlinkIdentifier(sv, call, request.getUnlinkIdentifier(), out);
    case R::MERGE_CUSTOMERS:
      return internal::DoMergeCustomers(sv, call, request.getMergeCustomers(), out);
    case R::PROMOTE: {
      absl::StatusOr<service::PromoteResult> r =
          sv.Promote(call, request.getPromote().getForce());
      if (!r.ok()) return Fail(r.status(), out);
      wire::PromoteResult::Builder b = out.initPromote();
      b.setEpoch(r->epoch);
      b.setSeq(r->seq);
      b.setAppliedSeq(r->applied_seq);
      b.setPrimarySeq(r->primary_seq);
      return kOk;
    }
    case R::SEARCH_CUSTOMERS:
      return internal::DoSearchCustomers(sv, call, request.getSearchCustomers(), out);
    case R::PUT_CUSTOMER:
      return internal::DoPutCustomer(sv, call, request.getPutCustomer(), out);
  }
  // A member added to the schema after this server was built: the client can carry
  // on with the operations this server knows.
  return Fail(absl::UnimplementedError(absl::StrCat("request: unknown operation ",
                                                    static_cast<uint16_t>(which))),
              out);
}

wire::ErrorCode RequestHandler::Authenticate(wire::AuthRequest::Reader request,
                                             Session* session, wire::Response::Builder out) {
  // Without a configured token there is nothing to check: a client that always sends
  // `auth` works against either kind of server.
  if (keys_ != nullptr) {
    const std::optional<service::Principal> who = keys_->Authenticate(View(request.getToken()));
    if (!who.has_value()) {
      session->authenticated = false;
      session->close_after_reply = true;
      return Fail(absl::UnauthenticatedError("auth: wrong token"), out);
    }
    session->scope = who->scope;
  }
  session->authenticated = true;
  out.setAuth();
  return kOk;
}

void RequestHandler::BuildError(uint64_t id, wire::ErrorCode code, absl::string_view message,
                                capnp::MessageBuilder* response) {
  wire::Response::Builder out = response->initRoot<wire::Response>();
  out.setId(id);
  wire::Error::Builder error = out.initError();
  error.setCode(code);
  CopyText(message, error.initMessage(message.size()));
}

std::vector<OperationCount> RequestHandler::OperationCounts() const {
  return service_->OperationCounts();
}

std::vector<OperationLatency> RequestHandler::OperationLatencies() const {
  return service_->OperationLatencies();
}

}  // namespace attrib::net
