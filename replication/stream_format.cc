// replication/stream_format.cc: the replication stream's frames (see the header).
#include "replication/stream_format.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "persistence/crc32c.h"
#include "persistence/log_format.h"

namespace attrib::replication {
namespace {

void Put32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void Put64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint32_t BodyCrc(absl::string_view body) {
  return persistence::MaskCrc(persistence::Crc32c(body.data(), body.size()));
}

}  // namespace

void AppendFrame(FrameType type, absl::string_view body, std::string* out) {
  const size_t start = out->size();
  out->resize(start + kFrameHeaderBytes);
  char* p = out->data() + start;
  p[0] = static_cast<char>(type);
  Put32(p + 1, static_cast<uint32_t>(body.size()));
  Put32(p + 5, BodyCrc(body));
  out->append(body.data(), body.size());
}

std::string PairBody(uint64_t a, uint64_t b) {
  std::string s(16, '\0');
  Put64(s.data(), a);
  Put64(s.data() + 8, b);
  return s;
}

absl::Status ParsePair(const Frame& f, uint64_t* a, uint64_t* b) {
  if (f.body.size() != 16) {
    return absl::InvalidArgumentError(absl::StrCat("replication: a frame of type ",
                                                   static_cast<int>(f.type), " has ",
                                                   f.body.size(), " bytes, not 16"));
  }
  *a = Get64(f.body.data());
  *b = Get64(f.body.data() + 8);
  return absl::OkStatus();
}

std::string RefusedBody(RefusedReason reason, absl::string_view message) {
  std::string s(1, static_cast<char>(reason));
  s.append(message.data(), message.size());
  return s;
}

std::string WelcomeBody(const Welcome& w) {
  std::string s = PairBody(w.epoch, w.durable_seq);
  if (!w.client_address.empty() || !w.http_address.empty()) {
    absl::StrAppend(&s, w.client_address, "\n", w.http_address);
  }
  return s;
}

absl::StatusOr<Welcome> ParseWelcome(const Frame& f) {
  if (f.body.size() < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("replication: a welcome of ", f.body.size(), " bytes (at least 16)"));
  }
  Welcome w;
  w.epoch = Get64(f.body.data());
  w.durable_seq = Get64(f.body.data() + 8);
  const absl::string_view rest = absl::string_view(f.body).substr(16);
  const size_t nl = rest.find('\n');
  w.client_address = std::string(rest.substr(0, nl));
  if (nl != absl::string_view::npos) w.http_address = std::string(rest.substr(nl + 1));
  return w;
}

absl::StatusOr<bool> FrameReader::Next(Frame* frame) {
  const size_t have = buffer_.size() - start_;
  if (have < kFrameHeaderBytes) return false;
  const char* p = buffer_.data() + start_;
  const uint8_t type = static_cast<uint8_t>(p[0]);
  if (type < static_cast<uint8_t>(FrameType::kHello) ||
      type > static_cast<uint8_t>(FrameType::kSnapshotEnd)) {
    return absl::InvalidArgumentError(
        absl::StrCat("replication: unknown frame type ", type, " (not a replication peer?)"));
  }
  const uint32_t len = Get32(p + 1);
  if (len > max_body_bytes_) {
    return absl::InvalidArgumentError(absl::StrCat("replication: a frame of ", len,
                                                   " bytes is over the limit of ",
                                                   max_body_bytes_));
  }
  if (have < kFrameHeaderBytes + len) return false;
  const absl::string_view body(p + kFrameHeaderBytes, len);
  if (BodyCrc(body) != Get32(p + 5)) {
    return absl::DataLossError("replication: a frame's CRC does not match its body");
  }
  frame->type = static_cast<FrameType>(type);
  frame->body.assign(body.data(), body.size());
  start_ += kFrameHeaderBytes + len;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > (1 << 20) && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  return true;
}

absl::StatusOr<std::vector<ShippedRecord>> ParseRecords(absl::string_view body) {
  using persistence::kRecordCrcCoverageOffset;
  using persistence::kRecordHeaderBytes;
  std::vector<ShippedRecord> out;
  size_t off = 0;
  while (off < body.size()) {
    if (body.size() - off < kRecordHeaderBytes) {
      return absl::DataLossError(
          absl::StrCat("replication: a record header is cut off at offset ", off));
    }
    const char* p = body.data() + off;
    const uint32_t len = Get32(p);
    if (len == 0 || len > persistence::kMaxPayloadBytes ||
        body.size() - off - kRecordHeaderBytes < len) {
      return absl::DataLossError(
          absl::StrCat("replication: a record length of ", len, " at offset ", off));
    }
    const uint32_t crc = persistence::MaskCrc(
        persistence::Crc32c(p + kRecordCrcCoverageOffset, 8 + static_cast<size_t>(len)));
    if (crc != Get32(p + 4)) {
      return absl::DataLossError(
          absl::StrCat("replication: a record's CRC does not match at offset ", off));
    }
    ShippedRecord r;
    r.seq = Get64(p + 8);
    r.payload = absl::string_view(p + kRecordHeaderBytes, len);
    if (!out.empty() && r.seq != out.back().seq + 1) {
      return absl::DataLossError(absl::StrCat("replication: record ", r.seq, " follows ",
                                              out.back().seq, " at offset ", off));
    }
    out.push_back(r);
    off += kRecordHeaderBytes + len;
  }
  return out;
}

}  // namespace attrib::replication
