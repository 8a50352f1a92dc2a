// bench/zero_work_replies.cc: the zero-work server's fixed replies (see the header).
//
// Thread-safety: as the header.
#include "bench/zero_work_replies.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_protocol.h"
#include "bench/capnp_layout.h"
#include "capnp/serialize.h"
#include "kj/exception.h"
#include "net/attrib.capnp.h"
#include "net/frame.h"

namespace attrib::bench {
namespace {

namespace wire = ::attrib::net::wire;
using capnp_layout::OffsetOf;

// Batch sizes whose reply is kept built (attrib-bench sends one size per run).
constexpr size_t kMaxCachedBatchSizes = 16;
// attrib's LookupBatch limit; a larger batch is answered error invalidArgument.
constexpr uint32_t kMaxBatchEmails = 10'000;

template <typename Fill>
AttribReplyTemplate MakeReply(Fill fill) {
  capnp::MallocMessageBuilder message;
  fill(message.initRoot<wire::Response>());
  return AttribReplyTemplate(message);
}

AttribReplyTemplate ErrorReply(wire::ErrorCode code, const char* text) {
  return MakeReply([&](wire::Response::Builder r) {
    wire::Error::Builder e = r.initError();
    e.setCode(code);
    e.setMessage(text);
  });
}

AttribReplyTemplate BuildBatchReply(uint32_t emails) {
  return MakeReply([&](wire::Response::Builder r) { r.initLookupBatch(emails); });
}

// Where the fast path reads a Request, from the compiled schema.
struct RequestLayout {
  capnp_layout::Sections request;
  uint32_t id, which, lookup_batch, emails;
};

const RequestLayout& Layout() {
  static const RequestLayout layout = [] {
    const capnp::StructSchema request = capnp::Schema::from<wire::Request>();
    const capnp::StructSchema batch = capnp::Schema::from<wire::LookupBatchRequest>();
    RequestLayout l;
    l.request = capnp_layout::SectionsOf(request);
    l.id = OffsetOf(request, "id");
    l.which = capnp_layout::DiscriminantOf(request);
    l.lookup_batch = OffsetOf(request, "lookupBatch");
    l.emails = OffsetOf(batch, "emails");
    return l;
  }();
  return layout;
}

// The fast path: one segment, in-bounds pointers.
bool FastReadHead(const uint8_t* frame, size_t frame_bytes, AttribRequestHead* head) {
  size_t words;
  if (!capnp_layout::SingleSegment(frame, frame_bytes, &words)) return false;
  const RequestLayout& l = Layout();
  const capnp_layout::SegmentReader reader(frame + 8, words);
  capnp_layout::StructRef root;
  if (!reader.Follow(0, &root)) return false;
  head->id = reader.U64(root, l.id);
  head->which = reader.U16(root, l.which);
  head->batch_emails = 0;
  if (head->which != wire::Request::LOOKUP_BATCH) return true;
  capnp_layout::StructRef batch;
  return reader.FollowMember(root, l.lookup_batch, &batch) &&
         reader.PointerListSize(batch, l.emails, &head->batch_emails);
}

}  // namespace

absl::StatusOr<ZeroWorkProtocol> ParseZeroWorkProtocol(absl::string_view text) {
  if (text == "attrib") return ZeroWorkProtocol::kAttrib;
  if (text == "resp") return ZeroWorkProtocol::kResp;
  return absl::InvalidArgumentError(
      absl::StrCat("--protocol: expected attrib or resp, got '", text, "'"));
}

AttribReplyTemplate::AttribReplyTemplate(capnp::MessageBuilder& message) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  frame_.assign(reinterpret_cast<const char*>(words.begin()), words.size() * net::kWordBytes);
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(frame_.data());
  uint32_t segments_minus_one;
  std::memcpy(&segments_minus_one, bytes, 4);
  // 4 bytes of count + 4 per segment, padded to a word.
  const size_t table_bytes = net::kWordBytes * ((segments_minus_one + 1) / 2 + 1);
  // The builder allocates the root struct first, in the first segment, so the root
  // pointer (the segment's first word) is a plain struct pointer.
  const uint64_t root = capnp_layout::Load64(bytes + table_bytes);
  const int64_t offset = static_cast<int32_t>(static_cast<uint32_t>(root)) >> 2;
  const uint32_t id_word = OffsetOf(capnp::Schema::from<wire::Response>(), "id");
  id_offset_ = table_bytes + net::kWordBytes * static_cast<size_t>(1 + offset + id_word);
  if ((root & 3) != 0 || offset < 0 || id_offset_ + 8 > frame_.size() ||
      capnp_layout::Load64(bytes + id_offset_) != 0) {
    std::fprintf(stderr, "zero-work: a reply template's root is not a struct in segment 0\n");
    std::abort();  // An invariant of capnp's builder, not an input error.
  }
}

void AttribReplyTemplate::Append(std::string& out, uint64_t id) const {
  const size_t start = out.size();
  out.append(frame_);
  std::memcpy(out.data() + start + id_offset_, &id, 8);
}

bool ReadAttribRequestHead(const void* frame, size_t frame_bytes, AttribRequestHead* head) {
  if (FastReadHead(static_cast<const uint8_t*>(frame), frame_bytes, head)) return true;
  try {
    capnp::FlatArrayMessageReader reader(
        kj::arrayPtr(static_cast<const capnp::word*>(frame), frame_bytes / net::kWordBytes),
        net::RequestReaderOptions(frame_bytes));
    const wire::Request::Reader request = reader.getRoot<wire::Request>();
    head->id = request.getId();
    head->which = static_cast<uint16_t>(request.which());
    head->batch_emails =
        request.isLookupBatch() ? request.getLookupBatch().getEmails().size() : 0;
    return true;
  } catch (const kj::Exception&) {
    return false;
  }
}

ZeroWorkResponder::ZeroWorkResponder(ZeroWorkProtocol protocol, size_t max_request_bytes)
    : protocol_(protocol),
      max_request_bytes_(max_request_bytes),
      lookup_(MakeReply([](wire::Response::Builder r) { r.initLookup(); })),
      pong_(MakeReply([](wire::Response::Builder r) { r.setPong(); })),
      connect_(MakeReply([](wire::Response::Builder r) { r.initConnect(); })),
      attribute_(MakeReply([](wire::Response::Builder r) { r.initAttribute(); })),
      auth_(MakeReply([](wire::Response::Builder r) { r.setAuth(); })),
      unimplemented_(ErrorReply(wire::ErrorCode::UNIMPLEMENTED,
                                "zero-work-server answers lookup, lookupBatch, connect, "
                                "attribute, auth and ping only")),
      undecodable_(ErrorReply(wire::ErrorCode::INVALID_ARGUMENT,
                              "frame: not a Request the zero-work server can read")),
      batch_too_large_(ErrorReply(wire::ErrorCode::INVALID_ARGUMENT,
                                  "emails: more than 10000 in one lookupBatch")) {}

size_t ZeroWorkResponder::AnswerAll(const char* data, size_t size, std::string& out,
                                    std::string* error) {
  return protocol_ == ZeroWorkProtocol::kAttrib ? AnswerAttrib(data, size, out, error)
                                                : AnswerResp(data, size, out, error);
}

const AttribReplyTemplate& ZeroWorkResponder::BatchReply(uint32_t emails) {
  for (const auto& [size, reply] : batches_) {
    if (size == emails) return reply;
  }
  if (batches_.size() < kMaxCachedBatchSizes) {
    batches_.emplace_back(emails, BuildBatchReply(emails));
    return batches_.back().second;
  }
  uncached_batch_ = std::make_unique<AttribReplyTemplate>(BuildBatchReply(emails));
  return *uncached_batch_;
}

size_t ZeroWorkResponder::AnswerAttrib(const char* data, size_t size, std::string& out,
                                       std::string* error) {
  net::FrameLimits limits;
  limits.max_frame_bytes = max_request_bytes_;
  size_t at = 0;
  while (at < size) {
    const uint8_t* frame = reinterpret_cast<const uint8_t*>(data + at);
    const net::FrameInfo info = net::InspectFrame(frame, size - at, limits);
    if (info.kind == net::FrameInfo::Kind::kNeedMore) break;
    if (info.kind == net::FrameInfo::Kind::kInvalid) {
      *error = info.error;
      break;
    }
    AttribRequestHead head;
    if (!ReadAttribRequestHead(frame, info.frame_bytes, &head)) {
      undecodable_.Append(out, 0);
    } else {
      switch (head.which) {
        case wire::Request::LOOKUP: lookup_.Append(out, head.id); break;
        case wire::Request::PING: pong_.Append(out, head.id); break;
        case wire::Request::CONNECT: connect_.Append(out, head.id); break;
        case wire::Request::ATTRIBUTE: attribute_.Append(out, head.id); break;
        case wire::Request::AUTH: auth_.Append(out, head.id); break;
        case wire::Request::LOOKUP_BATCH:
          if (head.batch_emails <= kMaxBatchEmails) {
            BatchReply(head.batch_emails).Append(out, head.id);
          } else {
            batch_too_large_.Append(out, head.id);
          }
          break;
        default: unimplemented_.Append(out, head.id); break;
      }
    }
    at += info.frame_bytes;
  }
  return at;
}

namespace {

// One RESP command (an array of bulk strings) at the front of a buffer.
struct RespCommand {
  size_t bytes = 0;
  int64_t args = 0;
  absl::string_view name;  // The first argument.
};

class RespCommandParser {
 public:
  RespCommandParser(const char* data, size_t size, size_t max_bytes)
      : begin_(data), p_(data), end_(data + std::min(size, max_bytes)),
        max_bytes_(static_cast<int64_t>(max_bytes)), truncated_(size > max_bytes) {}

  DecodeStatus Parse(RespCommand* command, std::string* error) {
    int64_t args;
    DecodeStatus s = Header('*', &args, error);
    if (s != DecodeStatus::kComplete) return s;
    if (args < 1) return Invalid(absl::StrCat("a command of ", args, " arguments"), error);
    for (int64_t i = 0; i < args; ++i) {
      int64_t length;
      s = Header('$', &length, error);
      if (s != DecodeStatus::kComplete) return s;
      if (end_ - p_ < length + 2) return NeedMore(error);
      if (p_[length] != '\r' || p_[length + 1] != '\n') {
        return Invalid("a bulk string not followed by CRLF", error);
      }
      if (i == 0) command->name = absl::string_view(p_, static_cast<size_t>(length));
      p_ += length + 2;
    }
    command->args = args;
    command->bytes = static_cast<size_t>(p_ - begin_);
    return DecodeStatus::kComplete;
  }

 private:
  DecodeStatus Invalid(absl::string_view what, std::string* error) {
    *error = absl::StrCat("RESP: ", what, " at byte ", p_ - begin_);
    return DecodeStatus::kInvalid;
  }
  // Incomplete: more may come, unless the command is already over the limit.
  DecodeStatus NeedMore(std::string* error) {
    if (truncated_) return Invalid("a command longer than --max_request_bytes", error);
    return DecodeStatus::kNeedMore;
  }

  // `type` then a decimal count (0 .. the byte limit) and CRLF.
  DecodeStatus Header(char type, int64_t* value, std::string* error) {
    if (p_ >= end_) return NeedMore(error);
    if (*p_ != type) {
      return Invalid(absl::StrCat("expected '", absl::string_view(&type, 1), "'"), error);
    }
    const void* cr = std::memchr(p_, '\r', static_cast<size_t>(end_ - p_));
    if (cr == nullptr || static_cast<const char*>(cr) + 1 >= end_) return NeedMore(error);
    const char* at = static_cast<const char*>(cr);
    if (at[1] != '\n') return Invalid("a line's CR is not followed by LF", error);
    const absl::string_view digits(p_ + 1, static_cast<size_t>(at - p_ - 1));
    if (digits.empty() || digits.size() > 10) return Invalid("a bad length", error);
    int64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return Invalid("a bad length", error);
      v = v * 10 + (c - '0');
    }
    if (v > max_bytes_) return Invalid("a length over --max_request_bytes", error);
    *value = v;
    p_ = at + 2;
    return DecodeStatus::kComplete;
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  const int64_t max_bytes_;
  const bool truncated_;  // `end_` is the byte limit, not the end of the data.
};

}  // namespace

size_t ZeroWorkResponder::AnswerResp(const char* data, size_t size, std::string& out,
                                     std::string* error) {
  size_t at = 0;
  while (at < size) {
    RespCommandParser parser(data + at, size - at, max_request_bytes_);
    RespCommand command;
    const DecodeStatus status = parser.Parse(&command, error);
    if (status != DecodeStatus::kComplete) break;
    if (absl::EqualsIgnoreCase(command.name, "GET")) {
      out.append("$-1\r\n");
    } else if (absl::EqualsIgnoreCase(command.name, "MGET")) {
      out.push_back('*');
      AppendDecimal(out, static_cast<uint64_t>(command.args - 1));
      out.append("\r\n");
      for (int64_t i = 1; i < command.args; ++i) out.append("$-1\r\n");
    } else if (absl::EqualsIgnoreCase(command.name, "SET")) {
      out.append("+OK\r\n");
    } else if (absl::EqualsIgnoreCase(command.name, "PING")) {
      out.append("+PONG\r\n");
    } else {
      out.append("-ERR zero-work-server answers GET, MGET, SET and PING only\r\n");
    }
    at += command.bytes;
  }
  return at;
}

}  // namespace attrib::bench
