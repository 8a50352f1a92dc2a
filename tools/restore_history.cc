// tools/restore_history.cc: `attrib-restore history` (see the header).
#include "tools/restore_history.h"

#include <algorithm>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/connection_store.h"
#include "engine/identity_index.h"
#include "persistence/data_dir.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"
#include "tools/cli_values.h"
#include "tools/json_writer.h"
#include "tools/restore_data_dir.h"

namespace attrib::tools {
namespace {

// What one record did to the customer's connection.
struct Change {
  bool touches = false;
  engine::AffiliateId old_affiliate = 0;
  engine::AffiliateId new_affiliate = 0;
  bool changed = true;  // False: an order that left the connection as it was.
};

Change Classify(const engine::Mutation& m, engine::ShopId shop, const std::string& key) {
  Change ch;
  std::visit(
      [&](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, engine::SetConnection>) {
          if (op.connection.shop != shop || op.connection.canonical_email != key) return;
          ch.touches = true;
          ch.old_affiliate = op.previous_affiliate;
          ch.new_affiliate = op.connection.affiliate;
        } else if constexpr (std::is_same_v<T, engine::RemoveConnection>) {
          if (op.shop != shop || op.canonical_email != key) return;
          ch.touches = true;
          ch.old_affiliate = op.previous_affiliate;
        } else if constexpr (std::is_same_v<T, engine::RecordOrder>) {
          const bool creates = op.new_connection && op.new_connection->canonical_email == key;
          if (op.shop != shop || (op.decision.canonical_email != key && !creates)) return;
          ch.touches = true;
          if (creates) {
            ch.old_affiliate = op.decision.previous_affiliate;
            ch.new_affiliate = op.new_connection->affiliate;
          } else if (op.counters) {
            ch.old_affiliate = ch.new_affiliate = op.counted_affiliate;
          } else {
            ch.changed = false;
          }
        } else if constexpr (std::is_same_v<T, engine::ReverseOrder>) {
          if (op.shop != shop || op.canonical_email != key) return;
          ch.touches = true;
          ch.changed = op.counters.has_value();
        } else if constexpr (std::is_same_v<T, engine::PutCustomerEntry>) {
          // The customer directory's record of this customer (issue 12).
          if (op.shop != shop || op.key != key) return;
          ch.touches = true;
          ch.changed = false;
        } else if constexpr (std::is_same_v<T, engine::PutAffiliate>) {
          // The customer's email on an affiliate directory entry: self-referral
          // protection and on_customer_becomes_affiliate depend on it.
          const auto& emails = op.affiliate.emails;
          if (op.affiliate.shop != shop ||
              std::find(emails.begin(), emails.end(), key) == emails.end()) {
            return;
          }
          ch.touches = true;
          ch.changed = false;
        }
      },
      m.op);
  return ch;
}

std::string AffiliateText(engine::AffiliateId a) {
  return a == 0 ? std::string("none") : absl::StrCat(a);
}

class History {
 public:
  History(const RestoreOptions& options, const RestoreEnv& env)
      : options_(options), env_(env), out_(*env.out) {}

  int Run() {
    absl::StatusOr<std::unique_ptr<persistence::DataDir>> dir =
        persistence::DataDir::OpenReadOnly(env_.fs, options_.args[0]);
    if (!dir.ok()) return env_.Fail("history", dir.status());
    dir_ = *std::move(dir);
    if (!options_.external_id.empty()) {
      // A customer first seen by external id is keyed by it (identity_index.h).
      absl::StatusOr<std::string> key = engine::ExternalIdKey(options_.external_id);
      if (!key.ok()) return env_.Usage(absl::StrCat("history: --external-id: ", key.status().message()));
      key_ = *std::move(key);
    } else {
      absl::StatusOr<engine::CanonicalEmail> email =
          engine::Canonicalize(options_.email, dir_->meta().email_policy);
      if (!email.ok()) return env_.Usage(absl::StrCat("history: --email: ", email.status().message()));
      key_ = email->canonical;
    }
    keys_ = {key_};
    absl::StatusOr<std::vector<LogSegment>> segments =
        ListLogSegments(env_.fs, *dir_, options_.archive, nullptr);
    if (!segments.ok()) return env_.Fail("history", segments.status());

    const uint64_t log_from = segments->empty() ? 0 : (*segments)[0].info.first_seq;
    if (!options_.json) {
      out_ << "history of shop " << options_.shop << " " << engine::DescribeIdentifierKey(key_)
           << " (email policy "
           << engine::EmailPolicyName(dir_->meta().email_policy) << ")\n";
    }
    if (log_from != 1) {
      if (absl::Status s = ShowCompacted(log_from); !s.ok()) return env_.Fail("history", s);
    }
    Progress progress(env_, "history");
    for (size_t i = 0; i < segments->size(); ++i) {
      progress.Update(i, segments->size(), "segments");
      const LogSegment& seg = (*segments)[i];
      absl::StatusOr<persistence::SegmentScan> scan = persistence::ScanSegment(
          env_.fs, seg.info.path,
          [&](const persistence::LogRecordRef& rec) { return OnRecord(seg, rec); });
      if (!scan.ok()) {
        progress.Finish();
        return env_.Fail("history", scan.status());
      }
      last_seq_ = std::max(last_seq_, scan->last_seq);
      if (scan->tail == persistence::SegmentScan::Tail::kCorrupt ||
          (scan->tail == persistence::SegmentScan::Tail::kTorn && i + 1 < segments->size())) {
        damaged_ = true;
        env_.Warn("history", absl::StrCat(seg.info.path, ": ", scan->problem, " (offset ",
                                          scan->bad_offset,
                                          "): later records of this segment are unreadable"));
      }
    }
    progress.Finish();
    Summary(log_from);
    return damaged_ ? kExitFailed : kExitOk;
  }

 private:
  absl::Status OnRecord(const LogSegment& seg, const persistence::LogRecordRef& rec) {
    absl::StatusOr<engine::Mutation> m = persistence::DecodeMutation(rec.payload);
    if (!m.ok()) {
      damaged_ = true;
      env_.Warn("history", absl::StrCat(seg.info.path, ": record seq ", rec.seq, " at offset ",
                                        rec.offset, " does not decode: ", m.status().message()));
      return absl::OkStatus();
    }
    Change ch = FollowIdentity(*m);
    for (auto it = keys_.begin(); !ch.touches && it != keys_.end(); ++it) {
      ch = Classify(*m, options_.shop, *it);
    }
    if (!ch.touches) return absl::OkStatus();
    ++changes_;
    const std::string text = persistence::DescribeMutation(*m);
    if (options_.json) {
      out_ << JsonObject()
                  .Uint("seq", rec.seq)
                  .Int("made_at", m->made_at)
                  .Str("time", IsoTime(m->made_at))
                  .Str("change", text)
                  .Uint("old_affiliate", ch.old_affiliate)
                  .Uint("new_affiliate", ch.new_affiliate)
                  .Bool("connection_changed", ch.changed)
                  .Done()
           << "\n";
    } else {
      out_ << "seq " << rec.seq << "  " << IsoTime(m->made_at) << "  " << text << "  [";
      if (!ch.changed) {
        out_ << "connection unchanged";
      } else if (ch.old_affiliate == ch.new_affiliate) {
        out_ << "affiliate " << AffiliateText(ch.new_affiliate) << ", counters changed";
      } else {
        out_ << "affiliate " << AffiliateText(ch.old_affiliate) << " -> "
             << AffiliateText(ch.new_affiliate);
      }
      out_ << "]\n";
    }
    return absl::OkStatus();
  }

  // Customer identifiers (issue 12): the customer's connection is keyed by its primary
  // key, which links and merges change. keys_ holds every key of the customer as
  // the log goes (the email first); an identity record touching one is shown and
  // updates the set.
  Change FollowIdentity(const engine::Mutation& m) {
    Change ch;
    ch.changed = false;
    const auto has = [&](const std::string& k) {
      return std::find(keys_.begin(), keys_.end(), k) != keys_.end();
    };
    const auto add = [&](const std::string& k) {
      if (!has(k)) keys_.push_back(k);
    };
    if (const auto* op = std::get_if<engine::LinkIdentifier>(&m.op)) {
      if (op->shop != options_.shop || (!has(op->primary) && !has(op->identifier))) return ch;
      add(op->primary);
      add(op->identifier);
      ch.touches = true;
    } else if (const auto* op = std::get_if<engine::UnlinkIdentifier>(&m.op)) {
      if (op->shop != options_.shop || (!has(op->primary) && !has(op->identifier))) return ch;
      ch.touches = true;
      // The unlinked identifier leaves the customer: keep following the email's side.
      const std::string& gone = op->identifier == key_ ? op->primary : op->identifier;
      keys_.erase(std::remove(keys_.begin(), keys_.end(), gone), keys_.end());
    } else if (const auto* op = std::get_if<engine::MergeCustomers>(&m.op)) {
      if (op->shop != options_.shop || (!has(op->survivor) && !has(op->loser))) return ch;
      const bool was_loser = has(op->loser);  // Its connection is the one removed.
      add(op->survivor);
      add(op->loser);
      ch.touches = true;
      if (op->lost_connection && was_loser) {
        ch.changed = true;
        ch.old_affiliate = op->lost_connection->affiliate;
      }
    }
    return ch;
  }

  // The log starts after seq 1: what the oldest snapshot holds for the customer.
  absl::Status ShowCompacted(uint64_t log_from) {
    absl::StatusOr<std::vector<std::string>> snaps =
        persistence::ListSnapshots(env_.fs, dir_->snapshot_dir());
    if (!snaps.ok()) return snaps.status();
    const std::string log_text =
        log_from == 0 ? std::string("the log is empty")
                      : absl::StrCat("the log starts at seq ", log_from);
    if (snaps->empty()) {
      if (!options_.json) out_ << log_text << " and there is no snapshot: older changes are lost\n";
      return absl::OkStatus();
    }
    const std::string& oldest = snaps->back();
    absl::StatusOr<persistence::SnapshotInfo> info = persistence::ReadSnapshotInfo(env_.fs, oldest);
    if (!info.ok()) return info.status();
    std::optional<engine::Connection> found;
    absl::Status s = persistence::ReadSnapshotRecords(
        env_.fs, oldest, nullptr,
        [&](const engine::Connection& c) {
          if (c.shop == options_.shop && c.canonical_email == key_) found = c;
        },
        nullptr);
    if (!s.ok()) return s;
    // The customer's shard was copied at its fence: the snapshot shows them as of it.
    const engine::ConnectionStore shape(info->shard_count, dir_->meta().email_policy);
    const uint32_t shard = shape.ShardOf(engine::KeyHash(options_.shop, key_));
    const uint64_t as_of = shard < info->fences.connection_shards.size()
                               ? info->fences.connection_shards[shard]
                               : info->oldest_fence;
    if (options_.json) {
      out_ << JsonObject()
                  .Str("snapshot", oldest)
                  .Uint("as_of_seq", as_of)
                  .Raw("connection", found ? JsonObject()
                                                 .Uint("affiliate", found->affiliate)
                                                 .Str("source", engine::SourceName(found->source))
                                                 .Int("connected_at", found->connected_at)
                                                 .Str("entered_email", found->entered_email)
                                                 .Uint("order_count", found->order_count)
                                                 .Done()
                                           : "null")
                  .Done()
           << "\n";
      return absl::OkStatus();
    }
    out_ << log_text << "; older changes were compacted into snapshots. As of seq " << as_of
         << " (" << oldest << "): " << (found ? ConnectionLine(*found) : "not connected") << "\n";
    if (log_from > as_of + 1) {
      out_ << "(changes " << as_of + 1 << ".." << log_from - 1 << " are in no file)\n";
    }
    return absl::OkStatus();
  }

  void Summary(uint64_t log_from) {
    if (options_.json) {
      out_ << JsonObject()
                  .Uint("changes", changes_)
                  .Uint("log_from_seq", log_from)
                  .Uint("log_to_seq", last_seq_)
                  .Done()
           << "\n";
    } else if (changes_ == 0) {
      out_ << "no change in the log";
      if (log_from != 0) out_ << " (seq " << log_from << ".." << last_seq_ << ")";
      out_ << "\n";
    } else {
      out_ << changes_ << (changes_ == 1 ? " change" : " changes") << " in the log (seq "
           << log_from << ".." << last_seq_ << ")\n";
    }
    out_.flush();
  }

  const RestoreOptions& options_;
  const RestoreEnv& env_;
  std::ostream& out_;
  std::unique_ptr<persistence::DataDir> dir_;
  std::string key_;
  std::vector<std::string> keys_;  // Every key of the customer so far (FollowIdentity).
  uint64_t changes_ = 0;
  uint64_t last_seq_ = 0;
  bool damaged_ = false;
};

}  // namespace

int RunHistory(const RestoreOptions& options, const RestoreEnv& env) {
  if (options.args.size() != 1) return env.Usage("history: expected one data directory");
  if (options.shop == 0) return env.Usage("history: --shop=N is required (N > 0)");
  if (options.email.empty() == options.external_id.empty()) {
    return env.Usage("history: give one of --email=E and --external-id=X");
  }
  return History(options, env).Run();
}

}  // namespace attrib::tools
