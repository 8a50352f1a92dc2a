// tests/http_client.cc: see http_client.h.
#include "tests/http_client.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "rapidjson/stringbuffer.h"
#include "tests/attribd_process.h"
#include "rapidjson/writer.h"

namespace attrib::testing {

HttpClient::HttpClient(std::string address, std::string record)
    : address_(std::move(address)), record_(std::move(record)),
      socket_(std::make_unique<RawSocket>(address_)) {}

namespace {
bool HasHeader(absl::string_view headers, absl::string_view name) {
  return absl::StrContains(absl::AsciiStrToLower(headers), name);
}
}  // namespace

HttpReply HttpClient::Send(absl::string_view method, absl::string_view path,
                           absl::string_view body, absl::string_view extra_headers,
                           int timeout_ms) {
  std::string req = absl::StrCat(method, " ", path, " HTTP/1.1\r\n");
  if (!HasHeader(extra_headers, "host:")) {
    absl::StrAppend(&req, "Host: ", address_, "\r\n");
  }
  if (!body.empty() && !HasHeader(extra_headers, "content-type:")) {
    absl::StrAppend(&req, "Content-Type: application/json\r\n");
  }
  absl::StrAppend(&req, extra_headers, "Content-Length: ", body.size(), "\r\n\r\n", body);
  if (!socket_->SendAll(req)) return HttpReply{};
  HttpReply reply = Read(timeout_ms, method == "HEAD");
  Record(method, path, reply);
  return reply;
}

HttpReply HttpClient::SendRaw(absl::string_view bytes, int timeout_ms) {
  if (!socket_->SendAll(bytes)) return HttpReply{};
  return Read(timeout_ms);
}

HttpReply HttpClient::Read(int timeout_ms, bool head) {
  HttpReply reply;
  std::string header, c;
  while (!absl::EndsWith(header, "\r\n\r\n")) {
    if (!socket_->ReadExactly(1, &c, timeout_ms)) return HttpReply{};
    header += c;
  }
  std::vector<absl::string_view> lines = absl::StrSplit(header, "\r\n", absl::SkipEmpty());
  if (lines.empty()) return HttpReply{};
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], ' ');
  int status = 0;
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &status)) return HttpReply{};
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    reply.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  size_t length = 0;
  if (!absl::SimpleAtoi(reply.Header("content-length"), &length)) length = 0;
  // HEAD, 204 and 304 responses have no body whatever their Content-Length says.
  const bool no_body = head || status == 204 || status == 304;
  if (!no_body && length > 0 && !socket_->ReadExactly(length, &reply.body, timeout_ms)) return HttpReply{};
  reply.status = status;
  return reply;
}

void HttpClient::Record(absl::string_view method, absl::string_view path,
                        const HttpReply& reply) {
  if (record_.empty() || reply.status == 0) return;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const auto str = [&](absl::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("method");
  str(method);
  w.Key("path");
  str(path);
  w.Key("status");
  w.Int(reply.status);
  w.Key("content_type");
  str(reply.Header("content-type"));
  w.Key("body");
  str(reply.body);
  w.EndObject();
  std::ofstream(record_, std::ios::app) << buf.GetString() << "\n";
}

rapidjson::Document Json(const HttpReply& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_FALSE(d.HasParseError()) << r.body;
  return d;
}

std::string CheckAgainstOpenApi(const std::string& record, int* status) {
  return RunCommand(absl::StrCat("node ", ATTRIB_SOURCE_DIR, "/tests/http/check_responses.mjs ",
                                 ATTRIB_SOURCE_DIR, "/http/openapi.json ", record, " 2>&1"),
                    status);
}

RecordedExchanges::RecordedExchanges() {
  char tmpl[] = "/tmp/attrib_http_record_XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  path_ = tmpl;
}

RecordedExchanges::~RecordedExchanges() { std::remove(path_.c_str()); }

void RecordedExchanges::ExpectMatchOpenApi() const {
  int status = 0;
  const std::string out = CheckAgainstOpenApi(path_, &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("exchanges match the document"), std::string::npos) << out;
}

}  // namespace attrib::testing
