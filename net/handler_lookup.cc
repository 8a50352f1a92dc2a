// net/handler_lookup.cc: the lookup operations of the request handler and its
// look-ahead over pipelined frames (see handler_lookup.h and handler.h).
#include "net/handler_lookup.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "capnp/serialize.h"
#include "kj/exception.h"
#include "net/frame.h"
#include "net/handler.h"
#include "net/handler_convert.h"

namespace attrib::net {

using Out = wire::Response::Builder;
using R = wire::Request;
constexpr wire::ErrorCode kOk = wire::ErrorCode::OK;

namespace internal {

// Lookups write each result straight from the store into the reply (no copies).
namespace {

void ToWireItem(const engine::LookupItemView& item, wire::LookupResult::Builder out) {
  out.setFound(item.found);
  if (!item.found) return;  // connection and status stay null: read as defaults.
  ToWire(item.connection, out.initConnection());
  ToWire(item.status, out.initStatus());
}

}  // namespace

wire::ErrorCode DoLookup(const service::Service& sv, const service::Call& call,
                         uint64_t shop, absl::string_view email, int64_t at,
                         const engine::Engine::PreparedKey* key, Out out) {
  absl::Status invalid;
  const auto fill = [&](size_t, const engine::LookupItemView& item) {
    if (item.invalid != nullptr) {
      invalid = *item.invalid;
    } else {
      ToWireItem(item, out.initLookup());
    }
  };
  absl::Status s;
  if (key != nullptr) {
    s = sv.LookupPrepared(call, *key, email, OptionalTime(at), fill);
  } else {
    const absl::string_view one[1] = {email};
    s = sv.LookupEach(call, shop, one, OptionalTime(at), fill);
  }
  if (!s.ok()) return Fail(s, out);
  if (!invalid.ok()) return Fail(invalid, out);
  return kOk;
}

wire::ErrorCode DoLookupBatch(const service::Service& sv, const service::Call& call,
                              wire::LookupBatchRequest::Reader r, Out out) {
  const capnp::List<capnp::Text>::Reader emails = r.getEmails();
  // Checked before building the views: a frame of pointers could name ~130k emails.
  if (emails.size() > engine::kMaxBatchLookup) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("emails: ", emails.size(),
                                                        " in one batch, the limit is ",
                                                        engine::kMaxBatchLookup)),
                out);
  }
  thread_local std::vector<absl::string_view> views;
  views.clear();
  for (capnp::Text::Reader email : emails) views.push_back(View(email));
  // Validation happens before the first item is reported: on an error the reply
  // holds only the error.
  capnp::List<wire::BatchItem>::Builder w;
  bool started = false;
  const absl::Status s = sv.LookupEach(
      call, r.getShop(), views, OptionalTime(r.getAt()),
      [&](size_t i, const engine::LookupItemView& item) {
        if (!started) {
          w = out.initLookupBatch(static_cast<unsigned>(views.size()));
          started = true;
        }
        if (item.invalid != nullptr) {
          SetError(*item.invalid, w[i].initError());
        } else {
          ToWireItem(item, w[i].initResult());
        }
      });
  views.clear();  // They point into this frame.
  if (!s.ok()) return Fail(s, out);
  if (!started) out.initLookupBatch(0);
  return kOk;
}

}  // namespace internal

void RequestHandler::PrepareFrames(absl::Span<const kj::ArrayPtr<const capnp::word>> frames,
                                   absl::Span<PreparedFrame> prepared) const {
  for (size_t i = 0; i < frames.size(); ++i) {
    prepared[i].lookup = false;
    prepared[i].key.valid = false;
    try {
      capnp::FlatArrayMessageReader reader(
          frames[i], RequestReaderOptions(frames[i].size() * kWordBytes));
      const wire::Request::Reader request = reader.getRoot<wire::Request>();
      if (request.which() == R::CONNECT) {
        // Only the prefetch: a connect runs through the normal path.
        const wire::ConnectRequest::Reader c = request.getConnect();
        service_->PrepareKey(c.getShop(), View(c.getEmail()), &prepared[i].key);
        continue;
      }
      prepared[i].key.valid = false;
      if (request.which() != R::LOOKUP) continue;
      const wire::LookupRequest::Reader r = request.getLookup();
      if (r.getExternalId().size() > 0) continue;  // By external id: the normal path.
      if (request.getMinSeq() != 0) continue;      // Read-your-writes: the normal path.
      PreparedFrame& p = prepared[i];
      p.id = request.getId();
      p.at = r.getAt();
      p.email = View(r.getEmail());
      service_->PrepareKey(r.getShop(), p.email, &p.key);
      p.lookup = true;
    } catch (const kj::Exception&) {
      // Not a valid Request: HandleFrame will say so.
    }
  }
  for (size_t i = 0; i < frames.size(); ++i) service_->PrefetchRecords(prepared[i].key);
  // The batch's lookups are timed together from here (request_latency.h).
  size_t lookups = 0;
  for (size_t i = 0; i < frames.size(); ++i) lookups += prepared[i].lookup ? 1 : 0;
  service_->BeginLookupRun(lookups);
}

}  // namespace attrib::net
