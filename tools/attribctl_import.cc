// tools/attribctl_import.cc: `attribctl import`, a CSV streamed as pipelined connect
// requests (see the header for the file format, the report and the exit codes).
#include "tools/attribctl_import.h"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "capnp/message.h"
#include "engine/engine.h"
#include "tools/attribctl_output.h"
#include "tools/csv_reader.h"

namespace attrib::tools {
namespace {

constexpr absl::string_view kColumnNames[] = {"email", "affiliate_id", "name",
                                              "connected_at"};

// Field index of each known column; -1 when absent.
struct Columns {
  int email = -1;
  int affiliate = -1;
  int name = -1;
  int connected_at = -1;
  size_t count = 0;
};

absl::StatusOr<Columns> MapHeader(const std::vector<std::string>& header) {
  Columns columns;
  columns.count = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    int* slot = name == "email"          ? &columns.email
                : name == "affiliate_id" ? &columns.affiliate
                : name == "name"         ? &columns.name
                : name == "connected_at" ? &columns.connected_at
                                         : nullptr;
    if (slot == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "import: unknown column '", header[i], "' in the header (columns: ",
          absl::StrJoin(kColumnNames, ", "), ")"));
    }
    if (*slot != -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("import: column '", name, "' appears twice in the header"));
    }
    *slot = static_cast<int>(i);
  }
  if (columns.email == -1 || columns.affiliate == -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "import: the header must name the columns email and affiliate_id (got '",
        absl::StrJoin(header, ","), "')"));
  }
  return columns;
}

// The email of a rejected row as the report shows it: as is, or as a JSON string
// when it holds control characters (a quoted field may hold a newline).
std::string Printable(absl::string_view text) {
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  return plain ? std::string(text) : JsonString(text);
}

struct Rejection {
  int64_t line = 0;
  std::string email;
  absl::Status status;
};

struct Pending {
  uint64_t id = 0;
  int64_t line = 0;
  std::string email;
};

class Importer {
 public:
  Importer(const CtlOptions& options, engine::ConnectRequest base, net::Client* client)
      : options_(options), out_(options.json), base_(std::move(base)), client_(client),
        progress_(::isatty(STDERR_FILENO) == 1) {}

  // Reads every row after the header; returns the exit code (after the report).
  int Run(CsvReader& reader, const Columns& columns) {
    std::vector<std::string> fields;
    absl::Status fatal;  // A connection error: stop, report.
    for (;;) {
      absl::StatusOr<bool> more = reader.Next(&fields);
      if (!more.ok()) {
        absl::string_view why = more.status().message();
        absl::ConsumePrefix(&why, absl::StrCat("line ", reader.error_line(), ": "));
        ++rows_;  // The record the error is in.
        Reject(reader.error_line(), "",
               absl::InvalidArgumentError(absl::StrCat(why, "; reading stopped here")));
        break;
      }
      if (!*more) break;
      ++rows_;
      fatal = SendRow(reader.record_line(), fields, columns);
      if (fatal.ok() && pending_.size() >= options_.pipeline) {
        // Take back half a window of replies at once, so requests are written in
        // batches rather than one by one.
        fatal = Drain(options_.pipeline / 2);
      }
      if (!fatal.ok()) break;
      ShowProgress(false);
    }
    if (fatal.ok()) fatal = Drain(0);
    ShowProgress(true);
    return Report(fatal);
  }

 private:
  absl::Status SendRow(int64_t line, const std::vector<std::string>& fields,
                       const Columns& columns) {
    const std::string email = fields.size() > static_cast<size_t>(columns.email)
                                  ? fields[static_cast<size_t>(columns.email)]
                                  : std::string();
    if (fields.size() != columns.count) {
      Reject(line, email, absl::InvalidArgumentError(absl::StrCat(
                              "expected ", columns.count, " fields (as the header), got ",
                              fields.size())));
      return absl::OkStatus();
    }
    engine::ConnectRequest r = base_;
    r.email = email;
    absl::StatusOr<uint64_t> affiliate =
        ParseId("affiliate_id", fields[static_cast<size_t>(columns.affiliate)]);
    if (!affiliate.ok()) {
      Reject(line, email, affiliate.status());
      return absl::OkStatus();
    }
    r.affiliate = *affiliate;
    if (columns.name != -1 && !fields[static_cast<size_t>(columns.name)].empty()) {
      r.name = fields[static_cast<size_t>(columns.name)];
    }
    if (columns.connected_at != -1) {
      absl::StatusOr<int64_t> at = ParseOptionalTimeMs(
          "connected_at", fields[static_cast<size_t>(columns.connected_at)]);
      if (!at.ok()) {
        Reject(line, email, at.status());
        return absl::OkStatus();
      }
      if (*at != 0) r.connected_at = *at;
    }
    capnp::MallocMessageBuilder message(256);
    wire::Request::Builder request = message.initRoot<wire::Request>();
    const uint64_t id = client_->NextId();
    request.setId(id);
    net::Client::FillConnect(r, request.initConnect());
    pending_.push_back({id, line, email});
    return client_->Send(message);
  }

  // Receives replies until at most `keep` requests are outstanding.
  absl::Status Drain(size_t keep) {
    while (pending_.size() > keep) {
      absl::StatusOr<net::Reply> reply = client_->Receive();
      if (!reply.ok()) return reply.status();
      const wire::Response::Reader response = reply->get();
      const Pending row = pending_.front();
      if (response.getId() != row.id) {
        if (response.getId() == 0 && response.isError()) {
          // The server could not decode a request and closes the connection.
          absl::Status s = net::ReplyStatus(response);
          return net::IsConnectionError(s) ? s : absl::UnavailableError(s.message());
        }
        return absl::InternalError(absl::StrCat("reply id ", response.getId(),
                                                " does not match request id ", row.id));
      }
      pending_.pop_front();
      if (absl::Status s = net::ReplyStatus(response); !s.ok()) {
        Reject(row.line, row.email, s);
        continue;
      }
      if (!response.isConnect()) {
        return absl::InternalError("the server sent a reply of the wrong kind to connect");
      }
      switch (response.getConnect().getOutcome()) {
        case wire::ConnectResult::Outcome::CREATED: ++created_; break;
        case wire::ConnectResult::Outcome::REPLACED: ++replaced_; break;
        case wire::ConnectResult::Outcome::UNCHANGED: ++unchanged_; break;
      }
    }
    return absl::OkStatus();
  }

  void Reject(int64_t line, absl::string_view email, absl::Status status) {
    rejections_.push_back({line, std::string(email), std::move(status)});
  }

  void ShowProgress(bool final) {
    if (!progress_) return;
    const absl::Time now = absl::Now();
    if (!final && now - last_progress_ < absl::Milliseconds(250)) return;
    last_progress_ = now;
    std::cerr << "\rimport: " << rows_ << " rows read, " << created_ + replaced_ + unchanged_
              << " connected, " << rejections_.size() << " rejected, " << pending_.size()
              << " waiting " << (final ? "\n" : "") << std::flush;
  }

  int Report(const absl::Status& fatal) {
    std::stable_sort(rejections_.begin(), rejections_.end(),
                     [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
    if (out_.json()) {
      for (const Rejection& r : rejections_) {
        std::cout << JsonObject()
                         .Int("line", r.line)
                         .Str("email", r.email)
                         .Raw("error", ErrorJson(r.status))
                         .Done()
                  << '\n';
      }
      JsonObject summary;
      summary.Uint("rows", rows_)
          .Uint("created", created_)
          .Uint("replaced", replaced_)
          .Uint("unchanged", unchanged_)
          .Uint("rejected", rejections_.size());
      if (!fatal.ok()) {
        summary.Uint("unknown", pending_.size()).Str("connection_error", fatal.message());
      }
      std::cout << summary.Done() << '\n';
    } else {
      std::cout << "rows read:           " << rows_ << '\n'
                << "connected (created): " << created_ << '\n'
                << "replaced:            " << replaced_ << '\n'
                << "unchanged:           " << unchanged_ << '\n'
                << "rejected:            " << rejections_.size() << '\n';
      for (const Rejection& r : rejections_) {
        std::cout << "  line " << r.line;
        if (!r.email.empty()) std::cout << " (" << Printable(r.email) << ")";
        std::cout << ": " << r.status.message() << '\n';
      }
    }
    std::cout.flush();
    if (!fatal.ok()) {
      std::cerr << "attribctl: import: " << fatal.message() << "\n";
      if (!pending_.empty()) {
        std::cerr << "attribctl: import: " << pending_.size()
                  << " rows sent without a reply (from line " << pending_.front().line
                  << ") have an unknown outcome; rows after line " << pending_.back().line
                  << " were not sent. Importing again with --mode=if_absent is safe.\n";
      }
      return kExitUnreachable;
    }
    return rejections_.empty() ? kExitOk : kExitFailed;
  }

  const CtlOptions& options_;
  const Output out_;
  const engine::ConnectRequest base_;  // Shop, source and mode of every row.
  net::Client* const client_;
  const bool progress_;
  absl::Time last_progress_ = absl::InfinitePast();
  std::deque<Pending> pending_;  // Sent, in order, not answered yet.
  std::vector<Rejection> rejections_;
  uint64_t rows_ = 0;
  uint64_t created_ = 0;
  uint64_t replaced_ = 0;
  uint64_t unchanged_ = 0;
};

}  // namespace

int RunImport(const CtlOptions& options) {
  if (options.args.size() != 1) return UsageError("import: expected one FILE.csv (or -)");
  absl::StatusOr<uint64_t> shop = RequireShop(options);
  if (!shop.ok()) return UsageError(shop.status().message());
  engine::ConnectRequest base;
  base.shop = *shop;
  absl::StatusOr<engine::Source> source =
      engine::ParseSource(options.source.empty() ? "import" : options.source);
  if (!source.ok()) return UsageError(source.status().message());
  base.source = *source;
  absl::StatusOr<engine::ConnectMode> mode =
      engine::ParseConnectMode(options.mode.empty() ? "if_absent" : options.mode);
  if (!mode.ok()) return UsageError(mode.status().message());
  base.mode = *mode;
  if (options.pipeline == 0 || options.pipeline > kMaxImportPipeline) {
    return UsageError(absl::StrCat("--pipeline: must be in 1..", kMaxImportPipeline));
  }

  const std::string& path = options.args[0];
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return UsageError(absl::StrCat("import: cannot open '", path, "'"));
    in = &file;
  }
  CsvReader reader(in);
  std::vector<std::string> header;
  absl::StatusOr<bool> has_header = reader.Next(&header);
  if (!has_header.ok()) return UsageError(absl::StrCat("import: ", has_header.status().message()));
  if (!*has_header) return UsageError(absl::StrCat("import: '", path, "' has no header row"));
  absl::StatusOr<Columns> columns = MapHeader(header);
  if (!columns.ok()) return UsageError(columns.status().message());

  absl::StatusOr<std::unique_ptr<net::Client>> client = OpenClient(options);
  if (!client.ok()) {
    Output(options.json).Error("import", client.status());
    return ExitCodeFor(client.status());
  }
  Importer importer(options, std::move(base), client->get());
  return importer.Run(reader, *columns);
}

}  // namespace attrib::tools
