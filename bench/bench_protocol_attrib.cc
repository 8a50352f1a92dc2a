// bench/bench_protocol_attrib.cc: attrib's encoders and reply decoder (see
// bench_protocol.h for the contract).
//
// Thread-safety: as the header.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/attrib_wire_fast.h"
#include "bench/bench_protocol.h"
#include "capnp/message.h"
#include "capnp/serialize.h"
#include "kj/exception.h"
#include "net/attrib.capnp.h"
#include "net/frame.h"
#include "net/wire_codes.h"

namespace attrib::bench {
namespace wire = ::attrib::net::wire;

namespace {

// Emails are bounded by the generator (<= 40 bytes) but any text works: the scratch
// only has to hold the common case.
constexpr size_t kScratchBaseWords = 256;
constexpr size_t kScratchWordsPerEmail = 8;  // List pointer + up to 56 bytes of text.

// Text setters take a NUL-terminated kj::StringPtr; a string_view need not be one,
// so the text is initialized to its size and copied.
void CopyInto(capnp::Text::Builder text, absl::string_view value) {
  if (!value.empty()) std::memcpy(text.begin(), value.data(), value.size());
}

// Appends the frame of `message` (segment table + segments, as messageToFlatArray)
// to `out` without an intermediate array.
void AppendFrame(std::string& out, capnp::MessageBuilder& message) {
  const kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments =
      message.getSegmentsForOutput();
  const uint32_t count = static_cast<uint32_t>(segments.size());
  uint32_t table[2 + 2 * net::kMaxSegments];
  size_t table_words = count / 2 + 1;  // 4 bytes of count + 4 per segment, padded.
  table[0] = count - 1;
  for (uint32_t i = 0; i < count; ++i) table[1 + i] = static_cast<uint32_t>(segments[i].size());
  if (count % 2 == 0) table[1 + count] = 0;  // Padding.
  out.append(reinterpret_cast<const char*>(table), table_words * net::kWordBytes);
  for (const kj::ArrayPtr<const capnp::word>& segment : segments) {
    out.append(reinterpret_cast<const char*>(segment.begin()),
               segment.size() * net::kWordBytes);
  }
}

// Builds one Request over the scratch segment, lets `fill` set the operation, and
// appends the frame. The builder zeroes what it used when it goes out of scope.
template <typename Fill>
void Build(std::vector<capnp::word>& scratch, std::string& out, uint64_t id, Fill fill) {
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch.data(), scratch.size()));
  wire::Request::Builder request = message.initRoot<wire::Request>();
  request.setId(id);
  fill(request);
  AppendFrame(out, message);
}

}  // namespace

AttribEncoder::AttribEncoder(size_t max_batch)
    : scratch_(kScratchBaseWords + kScratchWordsPerEmail * max_batch) {}

void AttribEncoder::Lookup(std::string& out, uint64_t id, uint64_t shop,
                           absl::string_view email) {
  AppendLookupFrame(out, id, shop, email);  // The same bytes, without the builder.
}

void AttribEncoder::LookupBatch(std::string& out, uint64_t id, uint64_t shop,
                                absl::Span<const absl::string_view> emails) {
  Build(scratch_, out, id, [&](wire::Request::Builder r) {
    wire::LookupBatchRequest::Builder b = r.initLookupBatch();
    b.setShop(shop);
    capnp::List<capnp::Text>::Builder list = b.initEmails(emails.size());
    for (size_t i = 0; i < emails.size(); ++i) {
      CopyInto(list.init(i, emails[i].size()), emails[i]);
    }
  });
}

void AttribEncoder::Connect(std::string& out, uint64_t id, uint64_t shop,
                            absl::string_view email, uint64_t affiliate, ConnectMode mode) {
  Build(scratch_, out, id, [&](wire::Request::Builder r) {
    wire::ConnectRequest::Builder b = r.initConnect();
    b.setShop(shop);
    CopyInto(b.initEmail(email.size()), email);
    b.setAffiliate(affiliate);
    b.setMode(mode == ConnectMode::kReassign ? wire::ConnectMode::REASSIGN
                                             : wire::ConnectMode::IF_ABSENT);
  });
}

void AttribEncoder::Attribute(std::string& out, uint64_t id, uint64_t shop,
                              absl::string_view order_id, absl::string_view email) {
  Build(scratch_, out, id, [&](wire::Request::Builder r) {
    wire::AttributeRequest::Builder b = r.initAttribute();
    b.setShop(shop);
    CopyInto(b.initOrderId(order_id.size()), order_id);
    CopyInto(b.initEmail(email.size()), email);
  });
}

void AttribEncoder::Auth(std::string& out, uint64_t id, absl::string_view token) {
  Build(scratch_, out, id, [&](wire::Request::Builder r) {
    CopyInto(r.initAuth().initToken(token.size()), token);
  });
}

void AttribEncoder::Ping(std::string& out, uint64_t id) {
  Build(scratch_, out, id, [](wire::Request::Builder r) { r.setPing(); });
}

namespace {

// Checks that `response` answers `op` and fills `result`; false with `error` set if
// it does not.
bool ClassifyAttrib(Op op, uint64_t expected_id, uint32_t expected_keys,
                    wire::Response::Reader response, ReplyResult* result,
                    std::string* error) {
  if (response.getId() != expected_id) {
    *error = absl::StrCat("reply id ", response.getId(), " does not match request id ",
                          expected_id);
    if (response.isError()) {
      absl::StrAppend(error, " (error ", net::WireCodeName(response.getError().getCode()),
                      ": ", response.getError().getMessage().cStr(), ")");
    }
    return false;
  }
  if (response.isError()) {
    result->is_error = true;
    result->error_kind = net::WireCodeName(response.getError().getCode());
    return true;
  }
  bool matches = false;
  switch (op) {
    case Op::kLookup:
      matches = response.isLookup();
      if (matches) result->misses = response.getLookup().getFound() ? 0 : 1;
      break;
    case Op::kBatch:
      matches = response.isLookupBatch();
      if (matches) {
        const capnp::List<wire::BatchItem>::Reader items = response.getLookupBatch();
        if (items.size() != expected_keys) {
          *error = absl::StrCat("batch reply has ", items.size(), " items for ",
                                expected_keys, " emails");
          return false;
        }
        for (wire::BatchItem::Reader item : items) {
          if (item.isError()) {
            if (result->item_errors++ == 0) {
              result->item_error_kind = net::WireCodeName(item.getError().getCode());
            }
          } else if (!item.getResult().getFound()) {
            ++result->misses;
          }
        }
      }
      break;
    case Op::kConnect:
    case Op::kLoad:
      matches = response.isConnect();
      break;
    case Op::kAttribute:
      matches = response.isAttribute();
      break;
    case Op::kAuth:
      matches = response.isAuth();
      break;
    case Op::kPing:
      matches = response.isPong();
      break;
  }
  if (!matches) {
    *error = absl::StrCat("reply ", expected_id, " to a ", OpName(op),
                          " request has the wrong result kind (union tag ",
                          static_cast<int>(response.which()), ")");
  }
  return matches;
}

}  // namespace

DecodeStatus DecodeAttribReply(Op op, uint64_t expected_id, uint32_t expected_keys,
                               const void* data, size_t size, size_t max_frame_bytes,
                               ReplyResult* result, std::string* error) {
  net::FrameLimits limits;
  limits.max_frame_bytes = max_frame_bytes;
  const net::FrameInfo info =
      net::InspectFrame(static_cast<const uint8_t*>(data), size, limits);
  if (info.kind == net::FrameInfo::Kind::kNeedMore) return DecodeStatus::kNeedMore;
  if (info.kind == net::FrameInfo::Kind::kInvalid) {
    *error = info.error;
    return DecodeStatus::kInvalid;
  }
  *result = ReplyResult();
  if (FastDecodeReply(op, expected_id, data, info.frame_bytes, result)) {
    result->bytes = info.frame_bytes;
    return DecodeStatus::kComplete;
  }
  *result = ReplyResult();
  result->bytes = info.frame_bytes;
  try {
    capnp::ReaderOptions options;
    // Generous: replies come from the server; 4x still stops a pointer loop.
    options.traversalLimitInWords = 4 * (info.frame_bytes / net::kWordBytes) + 64;
    options.nestingLimit = 64;
    capnp::FlatArrayMessageReader reader(
        kj::arrayPtr(static_cast<const capnp::word*>(data), info.frame_bytes / net::kWordBytes),
        options);
    if (!ClassifyAttrib(op, expected_id, expected_keys, reader.getRoot<wire::Response>(),
                        result, error)) {
      return DecodeStatus::kInvalid;
    }
  } catch (const kj::Exception& e) {
    *error = absl::StrCat("malformed reply: ", e.getDescription().cStr());
    return DecodeStatus::kInvalid;
  }
  return DecodeStatus::kComplete;
}

}  // namespace attrib::bench
