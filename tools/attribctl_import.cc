// tools/attribctl_import.cc: `attribctl import`, a CSV streamed as pipelined connect
// requests (see the header for the file format, the report and the exit codes).
#include "tools/attribctl_import.h"

#include <unistd.h>

#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "engine/engine.h"
#include "tools/attribctl_output.h"
#include "tools/import_rows.h"

namespace attrib::tools {
namespace {

struct Pending {
  uint64_t id = 0;
  int64_t line = 0;
  std::string email;
};

class Importer {
 public:
  Importer(const CtlOptions& options, net::Client* client)
      : options_(options), out_(options.json), client_(client),
        progress_(::isatty(STDERR_FILENO) == 1) {}

  // Reads every row after the header; returns the exit code (after the report).
  int Run(ImportRowReader& reader) {
    absl::Status fatal;  // A connection error: stop, report.
    ImportRow row;
    int64_t line = 0;
    while (reader.Next(&tally_, &row, &line)) {
      // The protocol stores a directory name only (putCustomer), not a whole entry:
      // counted and reported, never dropped silently (import_rows.h).
      if (row.directory) ++tally_.directory_skipped;
      if (row.connects()) fatal = SendRow(line, row);
      if (fatal.ok() && (!row.Links().empty())) fatal = LinkRow(line, row);
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
  absl::Status SendRow(int64_t line, const ImportRow& row) {
    capnp::MallocMessageBuilder message(256);
    wire::Request::Builder request = message.initRoot<wire::Request>();
    const uint64_t id = client_->NextId();
    request.setId(id);
    net::Client::FillConnect(row.connect, request.initConnect());
    pending_.push_back({id, line, row.label()});
    return client_->Send(message);
  }

  // The row's other identifiers (import_rows.h), linked once its connect was
  // answered: the pipeline is drained first (rows with several identifiers are few),
  // and a connect that was refused links nothing.
  absl::Status LinkRow(int64_t line, const ImportRow& row) {
    if (absl::Status s = Drain(0); !s.ok()) return s;
    if (row.connects() && !tally_.rejections.empty() && tally_.rejections.back().line == line) {
      return absl::OkStatus();
    }
    for (const engine::CustomerRef& id : row.Links()) {
      absl::StatusOr<net::Reply> reply =
          client_->LinkIdentifier(row.connect.shop, row.customer(), id);
      // The typed call folds an error reply into the status; only a lost connection
      // stops the import.
      const absl::Status s = reply.ok() ? net::ReplyStatus(reply->get()) : reply.status();
      if (!s.ok()) {
        if (net::IsConnectionError(s)) return s;
        tally_.Reject(line, row.label(), LinkFailed(row, id, s));
        break;
      }
      ++tally_.linked;
    }
    return absl::OkStatus();
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
        tally_.Reject(row.line, row.email, s);
        continue;
      }
      if (!response.isConnect()) {
        return absl::InternalError("the server sent a reply of the wrong kind to connect");
      }
      if (response.getConnect().getIdentity().getLinked()) ++tally_.linked;
      switch (response.getConnect().getOutcome()) {
        case wire::ConnectResult::Outcome::CREATED:
          tally_.Count(engine::ConnectResult::Outcome::kCreated);
          break;
        case wire::ConnectResult::Outcome::REPLACED:
          tally_.Count(engine::ConnectResult::Outcome::kReplaced);
          break;
        case wire::ConnectResult::Outcome::UNCHANGED:
          tally_.Count(engine::ConnectResult::Outcome::kUnchanged);
          break;
      }
    }
    return absl::OkStatus();
  }

  void ShowProgress(bool final) {
    if (!progress_) return;
    const absl::Time now = absl::Now();
    if (!final && now - last_progress_ < absl::Milliseconds(250)) return;
    last_progress_ = now;
    std::cerr << "\rimport: " << tally_.rows << " rows read, " << tally_.connected()
              << " connected, " << tally_.rejections.size() << " rejected, " << pending_.size()
              << " waiting " << (final ? "\n" : "") << std::flush;
  }

  int Report(const absl::Status& fatal) {
    WriteImportReport(&tally_, out_.json(), std::cout, [&](JsonObject& summary) {
      if (!fatal.ok()) {
        summary.Uint("unknown", pending_.size()).Str("connection_error", fatal.message());
      }
    });
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
    return tally_.rejections.empty() ? kExitOk : kExitFailed;
  }

  const CtlOptions& options_;
  const Output out_;
  net::Client* const client_;
  const bool progress_;
  absl::Time last_progress_ = absl::InfinitePast();
  std::deque<Pending> pending_;  // Sent, in order, not answered yet.
  ImportTally tally_;
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
  ImportRowReader reader(in, std::move(base));
  if (absl::Status s = reader.ReadHeader(path); !s.ok()) return UsageError(s.message());

  absl::StatusOr<std::unique_ptr<net::Client>> client = OpenClient(options);
  if (!client.ok()) {
    Output(options.json).Error("import", client.status());
    return ExitCodeFor(client.status());
  }
  Importer importer(options, client->get());
  return importer.Run(reader);
}

}  // namespace attrib::tools
