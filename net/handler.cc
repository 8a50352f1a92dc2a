// net/handler.cc: decodes a request frame, runs it on the engine, builds the reply
// (see handler.h). Wire <-> engine value conversions are in handler_convert.cc.
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
// state is the engine (thread-safe) and counts_ (relaxed atomics).
#include "net/handler.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "capnp/serialize.h"
#include "kj/exception.h"
#include "net/frame.h"
#include "net/handler_convert.h"
#include "net/handler_lookup.h"

namespace attrib::net {
namespace {

using engine::Engine;
using engine::TimeMs;
using Out = wire::Response::Builder;
using R = wire::Request;

constexpr wire::ErrorCode kOk = wire::ErrorCode::OK;
constexpr size_t kUndecodable = 0;
constexpr size_t kUnknownOperation = RequestHandler::kOperationSlots - 1;
constexpr size_t kKnownOperations = static_cast<size_t>(R::PING) + 1;
static_assert(kKnownOperations + 2 == RequestHandler::kOperationSlots,
              "a Request member was added: extend kOperationNames and kOperationSlots");
static_assert(static_cast<size_t>(wire::ErrorCode::UNAUTHENTICATED) + 1 ==
              RequestHandler::kCodeSlots);

// Row names of counts_: the Request union's field names.
constexpr absl::string_view kOperationNames[RequestHandler::kOperationSlots] = {
    "undecodable", "connect",  "disconnect", "lookup",  "lookupBatch", "list",
    "count",       "getSettings", "putSettings", "attribute", "reverse", "explain",
    "stats",       "snapshot", "auth",       "ping",    "unknown",
};

// Compares a client's token with the configured one without an early exit, so the
// time taken does not tell how many leading bytes were right. It reveals only whether
// the lengths differ, which a token's secrecy does not rest on.
bool TokenEquals(absl::string_view given, absl::string_view expected) {
  unsigned diff = given.size() == expected.size() ? 0u : 1u;
  const size_t n = std::min(given.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

// The process's resident set, from /proc/self/statm (pages). 0 if unreadable.
uint64_t ResidentBytes() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long size_pages = 0, resident_pages = 0;
  if (std::sscanf(buf, "%llu %llu", &size_pages, &resident_pages) != 2) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  return resident_pages * static_cast<uint64_t>(page > 0 ? page : 4096);
}

// ------------------------------------------------------------------ Operations

wire::ErrorCode DoConnect(Engine& e, wire::ConnectRequest::Reader r, Out out) {
  engine::ConnectRequest req;
  req.shop = r.getShop();
  const absl::string_view email = View(r.getEmail());
  req.email.assign(email.data(), email.size());  // The engine's request owns it.
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
  absl::StatusOr<engine::ConnectResult> result = e.Connect(req);
  if (!result.ok()) return Fail(result.status(), out);
  wire::ConnectResult::Builder w = out.initConnect();
  w.setOutcome(ToWire(result->outcome));
  ToWire(result->connection, w.initConnection());
  w.setPreviousAffiliate(result->previous_affiliate);
  w.setPreviousActivity(ToWire(result->previous_inactive));
  return kOk;
}

wire::ErrorCode DoDisconnect(Engine& e, wire::LookupRequest::Reader r, Out out) {
  absl::StatusOr<engine::DisconnectResult> result = e.Disconnect(r.getShop(), View(r.getEmail()));
  if (!result.ok()) return Fail(result.status(), out);
  ToWire(result->removed, out.initDisconnect());
  return kOk;
}

wire::ErrorCode DoList(const Engine& e, wire::ListRequest::Reader r, Out out) {
  engine::ListRequest req;
  if (absl::Status s = FromWire(r, &req); !s.ok()) return Fail(s, out);
  absl::StatusOr<engine::ListPage> page = e.List(req);
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

wire::ErrorCode DoCount(const Engine& e, wire::CountRequest::Reader r, Out out) {
  const engine::ShopId shop = r.getShop();
  if (r.getAffiliate() != 0) {
    absl::StatusOr<uint64_t> n = e.CountAffiliate(shop, r.getAffiliate());
    if (!n.ok()) return Fail(n.status(), out);
    out.initCount().setConnections(*n);
    return kOk;
  }
  absl::StatusOr<uint64_t> total = e.CountShop(shop);
  if (!total.ok()) return Fail(total.status(), out);
  absl::StatusOr<absl::flat_hash_map<engine::AffiliateId, uint64_t>> by =
      e.CountsByAffiliate(shop);
  if (!by.ok()) return Fail(by.status(), out);
  // Two reads of a live store: under concurrent changes the total and the breakdown
  // may differ by the changes made in between.
  thread_local std::vector<std::pair<engine::AffiliateId, uint64_t>> sorted;
  sorted.assign(by->begin(), by->end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  wire::CountResult::Builder w = out.initCount();
  w.setConnections(*total);
  capnp::List<wire::AffiliateCount>::Builder list = w.initByAffiliate(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    list[i].setAffiliate(sorted[i].first);
    list[i].setConnections(sorted[i].second);
  }
  return kOk;
}

wire::ErrorCode DoGetSettings(const Engine& e, wire::ShopRef::Reader r, Out out) {
  absl::StatusOr<engine::ShopSettings> settings = e.GetSettings(r.getShop());
  if (!settings.ok()) return Fail(settings.status(), out);
  ToWire(*settings, out.initSettings());
  return kOk;
}

wire::ErrorCode DoPutSettings(Engine& e, wire::PutSettingsRequest::Reader r, Out out) {
  absl::StatusOr<engine::ShopSettingsPatch> patch = FromWire(r.getPatch());
  if (!patch.ok()) return Fail(patch.status(), out);
  absl::StatusOr<engine::ShopSettings> settings = e.UpdateSettings(r.getShop(), *patch);
  if (!settings.ok()) return Fail(settings.status(), out);
  ToWire(*settings, out.initSettings());
  return kOk;
}

wire::ErrorCode DoAttribute(Engine& e, wire::AttributeRequest::Reader r, Out out) {
  engine::AttributeRequest req;
  req.shop = r.getShop();
  const absl::string_view order_id = View(r.getOrderId());
  req.order_id.assign(order_id.data(), order_id.size());
  const absl::string_view email = View(r.getEmail());
  if (!email.empty()) req.email.emplace(email.data(), email.size());
  if (r.getReferralAffiliate() != 0) req.referral_affiliate = r.getReferralAffiliate();
  absl::StatusOr<std::optional<bool>> is_new = FromWire(r.getCustomerIsNew(), "customer_is_new");
  if (!is_new.ok()) return Fail(is_new.status(), out);
  req.customer_is_new = *is_new;
  req.ordered_at = OptionalTime(r.getOrderedAt());
  absl::StatusOr<engine::AttributeResult> result = e.Attribute(req);
  if (!result.ok()) return Fail(result.status(), out);
  wire::AttributeResult::Builder w = out.initAttribute();
  ToWire(result->decision, w.initDecision());
  w.setDuplicate(result->duplicate);
  return kOk;
}

wire::ErrorCode DoReverse(Engine& e, wire::OrderRef::Reader r, Out out) {
  absl::StatusOr<engine::ReverseResult> result = e.Reverse(r.getShop(), View(r.getOrderId()));
  if (!result.ok()) return Fail(result.status(), out);
  wire::ReverseResult::Builder w = out.initReverse();
  ToWire(result->decision, w.initDecision());
  w.setUncounted(result->uncounted);
  w.setAlreadyReversed(result->already_reversed);
  return kOk;
}

wire::ErrorCode DoExplain(Engine& e, wire::OrderRef::Reader r, Out out) {
  absl::StatusOr<engine::AttributionDecision> d = e.Explain(r.getShop(), View(r.getOrderId()));
  if (!d.ok()) return Fail(d.status(), out);
  ToWire(*d, out.initExplain());
  return kOk;
}

}  // namespace

// ------------------------------------------------------------------ RequestHandler

RequestHandler::RequestHandler(engine::Engine* engine, HandlerOptions options)
    : engine_(engine), options_(std::move(options)) {}

void RequestHandler::HandleFrame(kj::ArrayPtr<const capnp::word> frame, Session* session,
                                 capnp::MessageBuilder* response,
                                 const PreparedFrame* prepared) {
  uint64_t id = 0;
  size_t operation = kUndecodable;
  wire::ErrorCode code = kOk;
  const bool prepared_lookup = prepared != nullptr && prepared->lookup;
  const int64_t started = latency_.Start(prepared_lookup);
  // Cap'n Proto reports a malformed message (a pointer out of bounds, the traversal or
  // nesting limit, a truncated segment) by throwing kj::Exception from whichever
  // getter first meets it; everything that reads the request runs in here.
  try {
    if (prepared != nullptr && prepared->lookup &&
        (options_.auth_token.empty() || session->authenticated)) {
      // Decoded by PrepareFrames already.
      id = prepared->id;
      wire::Response::Builder out = response->initRoot<wire::Response>();
      out.setId(id);
      code = internal::DoLookup(*engine_, prepared->key.shop, prepared->email, prepared->at,
                      &prepared->key, out);
      operation = static_cast<size_t>(R::LOOKUP) + 1;
    } else {
      capnp::FlatArrayMessageReader reader(frame,
                                           RequestReaderOptions(frame.size() * kWordBytes));
      const wire::Request::Reader request = reader.getRoot<wire::Request>();
      id = request.getId();
      const size_t which = static_cast<size_t>(request.which());
      wire::Response::Builder out = response->initRoot<wire::Response>();
      out.setId(id);
      code = Dispatch(request, session, out);
      operation = which < kKnownOperations ? which + 1 : kUnknownOperation;
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
    operation = kUndecodable;
    code = wire::ErrorCode::INTERNAL;
    BuildError(id, code, absl::StrCat("internal: ", e.what()), response);
    session->close_after_reply = true;
  }
  counts_[operation][static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  latency_.Finish(operation, prepared_lookup, started);
}

wire::ErrorCode RequestHandler::Dispatch(wire::Request::Reader request, Session* session,
                                         wire::Response::Builder out) {
  const R::Which which = request.which();
  if (!options_.auth_token.empty() && !session->authenticated && which != R::AUTH) {
    session->close_after_reply = true;
    return Fail(absl::UnauthenticatedError("auth: this server requires `auth` first"), out);
  }
  const bool is_write = which == R::CONNECT || which == R::DISCONNECT ||
                        which == R::PUT_SETTINGS || which == R::ATTRIBUTE ||
                        which == R::REVERSE;
  if (is_write && options_.durability != nullptr) {
    // Refused before the engine is touched: the state never runs ahead of the log.
    if (absl::Status s = options_.durability->CanWrite(); !s.ok()) return Fail(s, out);
    const wire::ErrorCode code = DispatchOperation(request, session, out);
    session->wait_for_seq = options_.durability->LastAssignedSeq();
    return code;
  }
  return DispatchOperation(request, session, out);
}

wire::ErrorCode RequestHandler::DispatchOperation(wire::Request::Reader request,
                                                  Session* session,
                                                  wire::Response::Builder out) {
  const R::Which which = request.which();
  Engine& e = *engine_;
  switch (which) {
    case R::CONNECT: return DoConnect(e, request.getConnect(), out);
    case R::DISCONNECT: return DoDisconnect(e, request.getDisconnect(), out);
    case R::LOOKUP: {
      const wire::LookupRequest::Reader r = request.getLookup();
      return internal::DoLookup(e, r.getShop(), View(r.getEmail()), r.getAt(), nullptr, out);
    }
    case R::LOOKUP_BATCH: return internal::DoLookupBatch(e, request.getLookupBatch(), out);
    case R::LIST: return DoList(e, request.getList(), out);
    case R::COUNT: return DoCount(e, request.getCount(), out);
    case R::GET_SETTINGS: return DoGetSettings(e, request.getGetSettings(), out);
    case R::PUT_SETTINGS: return DoPutSettings(e, request.getPutSettings(), out);
    case R::ATTRIBUTE: return DoAttribute(e, request.getAttribute(), out);
    case R::REVERSE: return DoReverse(e, request.getReverse(), out);
    case R::EXPLAIN: return DoExplain(e, request.getExplain(), out);
    case R::STATS:
      FillStats(out.initStats());
      return kOk;
    case R::SNAPSHOT: {
      if (!options_.snapshot) {
        return Fail(absl::UnimplementedError(
                        "snapshot: not available until the durability layer exists"),
                    out);
      }
      const absl::Status s = options_.snapshot();
      if (!s.ok()) return Fail(s, out);
      out.setSnapshot();
      return kOk;
    }
    case R::AUTH: return Authenticate(request.getAuth(), session, out);
    case R::PING:
      out.setPong();
      return kOk;
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
  if (!options_.auth_token.empty() &&
      !TokenEquals(View(request.getToken()), options_.auth_token)) {
    session->authenticated = false;
    session->close_after_reply = true;
    return Fail(absl::UnauthenticatedError("auth: wrong token"), out);
  }
  session->authenticated = true;
  out.setAuth();
  return kOk;
}

void RequestHandler::FillStats(wire::StatsResult::Builder out) const {
  const engine::EngineStats stats = engine_->Stats();
  out.setConnections(stats.connections);
  out.setRememberedOrders(stats.remembered_orders);
  if (options_.server_facts) {
    const ServerFacts facts = options_.server_facts();
    out.setOpenClients(facts.open_clients);
    out.setAcceptedClients(facts.accepted_clients);
    out.setUptimeMs(facts.uptime_ms);
    out.setOldestDurabilityWaitMs(facts.oldest_durability_wait_ms);
  }
  out.setRssBytes(ResidentBytes());
  // The hash tables of the shards plus the (shop, affiliate) owner table they share.
  out.setStoreTableBytes(stats.memory.table_bytes + stats.memory.owner_table_bytes);
  out.setStoreArenaBytes(stats.memory.arena_bytes);

  // One load per counter, so the list's length and contents agree.
  uint64_t snapshot[kOperationSlots][kCodeSlots];
  size_t nonzero = 0;
  for (size_t op = 0; op < kOperationSlots; ++op) {
    for (size_t code = 0; code < kCodeSlots; ++code) {
      snapshot[op][code] = counts_[op][code].load(std::memory_order_relaxed);
      if (snapshot[op][code] != 0) ++nonzero;
    }
  }
  capnp::List<wire::OperationCount>::Builder list = out.initOperations(nonzero);
  size_t i = 0;
  for (size_t op = 0; op < kOperationSlots; ++op) {
    for (size_t code = 0; code < kCodeSlots; ++code) {
      if (snapshot[op][code] == 0) continue;
      const absl::string_view op_name = kOperationNames[op];
      const absl::string_view code_name = WireCodeName(static_cast<wire::ErrorCode>(code));
      CopyText(op_name, list[i].initOperation(op_name.size()));
      CopyText(code_name, list[i].initResult(code_name.size()));
      list[i].setCount(snapshot[op][code]);
      ++i;
    }
  }
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
  std::vector<OperationCount> result;
  for (size_t op = 0; op < kOperationSlots; ++op) {
    for (size_t code = 0; code < kCodeSlots; ++code) {
      const uint64_t n = counts_[op][code].load(std::memory_order_relaxed);
      if (n == 0) continue;
      result.push_back(OperationCount{
          std::string(kOperationNames[op]),
          std::string(WireCodeName(static_cast<wire::ErrorCode>(code))), n});
    }
  }
  return result;
}

std::vector<OperationLatency> RequestHandler::OperationLatencies() const {
  std::vector<OperationLatency> result;
  for (size_t op = 0; op < kOperationSlots; ++op) {
    metrics::HistogramSnapshot latency = latency_.Read(op);
    if ((op == kUndecodable || op == kUnknownOperation) && latency.count() == 0) continue;
    result.push_back(OperationLatency{std::string(kOperationNames[op]), latency});
  }
  return result;
}

}  // namespace attrib::net
