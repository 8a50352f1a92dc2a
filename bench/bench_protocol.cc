// bench/bench_protocol.cc: the names shared by both protocols, and RESP's encoders
// and decoder (see the header for the contract; attrib's are in
// bench_protocol_attrib.cc).
//
// Thread-safety: as the header.
#include "bench/bench_protocol.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace attrib::bench {

absl::StatusOr<Target> ParseTarget(absl::string_view text) {
  if (text == "attrib") return Target::kAttrib;
  if (text == "redis") return Target::kRedis;
  return absl::InvalidArgumentError(
      absl::StrCat("--target: expected attrib or redis, got '", text, "'"));
}

absl::string_view TargetName(Target target) {
  return target == Target::kAttrib ? "attrib" : "redis";
}

absl::string_view OpName(Op op) {
  switch (op) {
    case Op::kLookup: return "lookup";
    case Op::kBatch: return "batch";
    case Op::kConnect: return "connect";
    case Op::kAttribute: return "attribute";
    case Op::kPing: return "ping";
    case Op::kLoad: return "load";
    case Op::kAuth: return "auth";
  }
  return "?";
}

// ==================================================================== RESP

void AppendDecimal(std::string& out, uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) out.push_back(digits[--n]);
}

namespace {

void AppendBulk(std::string& out, absl::string_view bytes) {
  out.push_back('$');
  AppendDecimal(out, bytes.size());
  out.append("\r\n", 2);
  out.append(bytes.data(), bytes.size());
  out.append("\r\n", 2);
}

}  // namespace

void EncodeRespGet(std::string& out, absl::string_view key) {
  out.append("*2\r\n$3\r\nGET\r\n");
  AppendBulk(out, key);
}

void EncodeRespMget(std::string& out, absl::Span<const absl::string_view> keys) {
  out.push_back('*');
  AppendDecimal(out, keys.size() + 1);
  out.append("\r\n$4\r\nMGET\r\n");
  for (absl::string_view key : keys) AppendBulk(out, key);
}

void EncodeRespSet(std::string& out, absl::string_view key, uint64_t value) {
  out.append("*3\r\n$3\r\nSET\r\n");
  AppendBulk(out, key);
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  out.push_back('$');
  AppendDecimal(out, static_cast<uint64_t>(n));
  out.append("\r\n", 2);
  while (n > 0) out.push_back(digits[--n]);
  out.append("\r\n", 2);
}

void EncodeRespPing(std::string& out) { out.append("*1\r\n$4\r\nPING\r\n"); }

namespace {

// A RESP reply is at most this deep (MGET replies are depth 2).
constexpr int kMaxRespDepth = 8;
// Largest bulk string or array accepted (Redis' own proto-max-bulk-len is 512 MB).
constexpr int64_t kMaxRespLength = int64_t{512} << 20;

// What the top-level value of a reply was.
struct RespSummary {
  char type = 0;               // + - : $ * _
  bool nil = false;            // $-1, *-1 or _
  absl::string_view line;      // + and -: the text.
  int64_t elements = 0;        // *: element count.
  int64_t nil_elements = 0;    // *: elements that were nil.
  int64_t non_bulk_elements = 0;  // *: elements that were neither bulk nor nil.
};

class RespParser {
 public:
  RespParser(const char* data, size_t size, std::string* error)
      : begin_(data), p_(data), end_(data + size), error_(error) {}

  DecodeStatus Parse(RespSummary* top) { return Value(0, top); }
  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }

 private:
  DecodeStatus Invalid(std::string message) {
    *error_ = absl::StrCat("RESP: ", message, " at byte ", p_ - begin_);
    return DecodeStatus::kInvalid;
  }

  // A line ending in CRLF; p_ moves past it.
  DecodeStatus Line(absl::string_view* line) {
    const void* cr = std::memchr(p_, '\r', static_cast<size_t>(end_ - p_));
    if (cr == nullptr) return DecodeStatus::kNeedMore;
    const char* at = static_cast<const char*>(cr);
    if (at + 1 >= end_) return DecodeStatus::kNeedMore;
    if (at[1] != '\n') return Invalid("a line's CR is not followed by LF");
    *line = absl::string_view(p_, static_cast<size_t>(at - p_));
    p_ = at + 2;
    return DecodeStatus::kComplete;
  }

  DecodeStatus Integer(absl::string_view line, int64_t* value) {
    bool negative = !line.empty() && line[0] == '-';
    if (negative) line.remove_prefix(1);
    if (line.empty() || line.size() > 18) {
      return Invalid(absl::StrCat("bad integer '", line, "'"));
    }
    int64_t v = 0;
    for (char c : line) {
      if (c < '0' || c > '9') return Invalid(absl::StrCat("bad integer '", line, "'"));
      v = v * 10 + (c - '0');
    }
    *value = negative ? -v : v;
    return DecodeStatus::kComplete;
  }

  DecodeStatus Value(int depth, RespSummary* summary) {
    if (depth > kMaxRespDepth) return Invalid("reply nested too deep");
    if (p_ >= end_) return DecodeStatus::kNeedMore;
    const char type = *p_++;
    summary->type = type;
    absl::string_view line;
    if (DecodeStatus s = Line(&line); s != DecodeStatus::kComplete) return s;
    switch (type) {
      case '+':
      case '-':
        summary->line = line;
        return DecodeStatus::kComplete;
      case '_':
        summary->nil = true;
        return line.empty() ? DecodeStatus::kComplete : Invalid("null with a payload");
      case ':': {
        int64_t ignored;
        return Integer(line, &ignored);
      }
      case '$': {
        int64_t length;
        if (DecodeStatus s = Integer(line, &length); s != DecodeStatus::kComplete) return s;
        if (length == -1) {
          summary->nil = true;
          return DecodeStatus::kComplete;
        }
        if (length < 0 || length > kMaxRespLength) {
          return Invalid(absl::StrCat("bulk length ", length));
        }
        if (end_ - p_ < length + 2) return DecodeStatus::kNeedMore;
        if (p_[length] != '\r' || p_[length + 1] != '\n') {
          return Invalid("bulk string not followed by CRLF");
        }
        p_ += length + 2;
        return DecodeStatus::kComplete;
      }
      case '*': {
        int64_t count;
        if (DecodeStatus s = Integer(line, &count); s != DecodeStatus::kComplete) return s;
        if (count == -1) {
          summary->nil = true;
          return DecodeStatus::kComplete;
        }
        if (count < 0 || count > kMaxRespLength) {
          return Invalid(absl::StrCat("array length ", count));
        }
        summary->elements = count;
        for (int64_t i = 0; i < count; ++i) {
          RespSummary element;
          if (DecodeStatus s = Value(depth + 1, &element); s != DecodeStatus::kComplete) {
            return s;
          }
          if (element.nil) {
            ++summary->nil_elements;
          } else if (element.type != '$') {
            ++summary->non_bulk_elements;
          }
        }
        return DecodeStatus::kComplete;
      }
      default:
        --p_;
        return Invalid(absl::StrFormat("expected a type byte (+ - : $ * _), got 0x%02x",
                                       static_cast<unsigned char>(type)));
    }
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  std::string* error_;
};

absl::string_view DescribeResp(const RespSummary& s) {
  switch (s.type) {
    case '+': return "a status reply";
    case ':': return "an integer reply";
    case '$': return s.nil ? "a nil bulk reply" : "a bulk reply";
    case '*': return s.nil ? "a nil array reply" : "an array reply";
    case '_': return "a null reply";
  }
  return "an unknown reply";
}

}  // namespace

DecodeStatus DecodeRespReply(Op op, uint32_t expected_keys, const char* data, size_t size,
                             ReplyResult* result, std::string* error) {
  RespParser parser(data, size, error);
  RespSummary top;
  const DecodeStatus status = parser.Parse(&top);
  if (status != DecodeStatus::kComplete) return status;
  *result = ReplyResult();
  result->bytes = parser.consumed();
  if (top.type == '-') {
    result->is_error = true;
    result->error_kind = top.line.substr(0, top.line.find(' '));
    return DecodeStatus::kComplete;
  }
  bool matches = false;
  switch (op) {
    case Op::kLookup:
      matches = top.type == '$' || top.type == '_';
      result->misses = top.nil ? 1 : 0;
      break;
    case Op::kBatch:
      matches = top.type == '*' && !top.nil && top.non_bulk_elements == 0 &&
                top.elements == expected_keys;
      result->misses = static_cast<uint32_t>(top.nil_elements);
      break;
    case Op::kConnect:
    case Op::kLoad:
      matches = top.type == '+';
      break;
    case Op::kPing:
      matches = top.type == '+' && top.line == "PONG";
      break;
    case Op::kAttribute:
    case Op::kAuth:
      break;  // Never sent to Redis.
  }
  if (!matches) {
    *error = absl::StrCat("RESP: ", OpName(op), " answered by ", DescribeResp(top));
    if (top.type == '*' && !top.nil) {
      absl::StrAppend(error, " of ", top.elements, " elements (", top.non_bulk_elements,
                      " not bulk strings; expected ", expected_keys, ")");
    }
    return DecodeStatus::kInvalid;
  }
  return DecodeStatus::kComplete;
}

}  // namespace attrib::bench
