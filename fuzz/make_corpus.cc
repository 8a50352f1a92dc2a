// fuzz/make_corpus.cc
//
// Writes the binary seed corpora of the fuzz targets (fuzz/make_corpus.sh runs it):
// real request streams for frame_fuzz (corpus_frames.cc: every Request union
// member), a real WAL segment for log_reader_fuzz with every log tag the codec
// writes (and one payload per tag, tagNN, for mutation_codec_fuzz), and a real
// snapshot (4 shards, the current format, every block type) for
// snapshot_reader_fuzz, all produced by the project's own encoders at a few KB.
// Fails naming the tag or block type when the engine's operations below no longer
// produce one (corpus_coverage_test.cc checks the checked-in result).
// Usage: make_fuzz_corpus CORPUS_DIR (fuzz/corpus).
//
// Thread-safety: a single-threaded program.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/engine.h"
#include "fuzz/corpus_frames.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_format.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_format.h"

namespace {

using namespace attrib;
using attrib::fuzz::WriteSeedFile;

// libFuzzer reads at most -max_len bytes of a seed (fuzz/CMakeLists.txt: 8192).
constexpr size_t kMaxSeedBytes = 8192;

// The highest log tag (persistence/mutation_codec.h).
constexpr int kMaxTag = 20;

engine::EngineOptions Options(const engine::Clock* clock) {
  engine::EngineOptions o;
  o.shard_count = 4;
  o.clock = clock;
  return o;
}

// Reports an operation of Fill that failed (the seeds then miss what it logs).
template <typename T>
void Note(const absl::StatusOr<T>& result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "make_fuzz_corpus: %s: %s\n", what,
                 result.status().ToString().c_str());
  }
}

// The log tags the first part of Fill leaves out, and the webhook and customer
// blocks of the snapshot: a disconnect (2), a reversal (5), version 1 settings on a
// fresh shop (3), a shop without the customer directory (20) whose orders are tags
// 4 and 9 and whose merge is tag 12, directory entries and the link and merge that
// absorb them (14, 16, 15), webhook endpoints (18, 19).
void FillRest(engine::Engine* engine) {
  Note(engine->Disconnect(43, "user3@example.com"), "disconnect");
  Note(engine->Reverse(42, "order-1"), "reverse");
  engine::ShopSettingsPatch v1;
  v1.validity_days = 30;
  Note(engine->UpdateSettings(44, v1), "settings v1");
  engine::ShopSettingsPatch no_directory;
  no_directory.customer_directory = false;
  Note(engine->UpdateSettings(45, no_directory), "settings v4");
  for (int i = 0; i < 2; ++i) {
    engine::ConnectRequest c;
    c.shop = 45;
    c.email = "old" + std::to_string(i) + "@example.com";
    c.affiliate = 7 + i;
    Note(engine->Connect(c), "connect (no directory)");
  }
  engine::AttributeRequest order;
  order.shop = 45;
  order.order_id = "order-v1";
  order.email = "old0@example.com";
  Note(engine->Attribute(order), "order v1");
  engine::PutAffiliateRequest put;
  put.shop = 45;
  put.id = 9;
  put.name = "Aff Nine";
  put.emails = {"aff9@example.com"};
  Note(engine->PutAffiliate(put), "affiliate (no directory)");
  order.order_id = "order-v2";
  order.email = "aff9@example.com";
  order.referral_affiliate = 9;  // Herself: a self-referral.
  Note(engine->Attribute(order), "order v2");
  engine::MergeRequest merge;
  merge.shop = 45;
  merge.into = engine::CustomerRef{"old0@example.com", std::nullopt};
  merge.from = engine::CustomerRef{"old1@example.com", std::nullopt};
  merge.keep = engine::MergeKeep::kEarliest;
  Note(engine->MergeCustomers(merge), "merge (no entries)");
  // The directory (shop 42): guests seen by their orders, named, linked; a merge.
  for (int i = 1; i <= 3; ++i) {
    engine::AttributeRequest guest;
    guest.shop = 42;
    guest.order_id = "guest-" + std::to_string(i);
    guest.email = "guest" + std::to_string(i) + "@example.com";
    guest.name = "Guest " + std::to_string(i);
    Note(engine->Attribute(guest), "guest order");
  }
  Note(engine->PutCustomerName(42, engine::CustomerRef{"guest1@example.com", std::nullopt},
                               "Guest One"),
       "customer name");
  merge.shop = 42;  // Two connected customers (affiliates 8 and 9), both with entries.
  merge.into = engine::CustomerRef{"user4@example.com", std::nullopt};
  merge.from = engine::CustomerRef{"user8@example.com", std::nullopt};
  Note(engine->MergeCustomers(merge), "merge (entries)");
  Note(engine->LinkIdentifier(42, engine::CustomerRef{"guest1@example.com", std::nullopt},
                              engine::CustomerRef{"guest3@example.com", std::nullopt}),
       "link (entry)");
  engine::WebhookEndpointRequest hook;
  hook.shop = 42;
  hook.url = "https://example.com/hooks/attrib";
  hook.event_types = {};
  hook.secret = "whsec_0123456789abcdef";
  Note(engine->CreateWebhookEndpoint(hook), "webhook");
  hook.url = "https://example.com/hooks/old";
  auto old = engine->CreateWebhookEndpoint(hook);
  Note(old, "webhook 2");
  if (old.ok()) {
    const absl::Status deleted = engine->DeleteWebhookEndpoint(42, old->id);
    if (!deleted.ok()) std::fprintf(stderr, "make_fuzz_corpus: delete webhook: %s\n",
                                    deleted.ToString().c_str());
  }
}

void Fill(engine::Engine* engine) {
  for (int i = 0; i < 20; ++i) {
    engine::ConnectRequest c;
    c.shop = 42 + i % 2;
    c.email = "user" + std::to_string(i) + "@example.com";
    c.affiliate = 7 + i % 3;
    (void)engine->Connect(c);
  }
  engine::AttributeRequest order;
  order.shop = 42;
  order.order_id = "order-1";
  order.email = "user0@example.com";
  (void)engine->Attribute(order);
  // The affiliate directory: every record kind issue 12 added (log tags 6-9, the
  // snapshot's affiliate blocks and version 3 settings and orders).
  engine::ShopSettingsPatch patch;
  patch.on_customer_becomes_affiliate = engine::CustomerBecomesAffiliate::kDisconnect;
  (void)engine->UpdateSettings(42, patch);
  engine::PutAffiliateRequest put;
  put.shop = 42;
  put.id = 9;
  put.name = "User Two";
  put.emails = {"user0@example.com", "u0@example.com"};  // user0 is connected to 7.
  (void)engine->PutAffiliate(put);
  (void)engine->SetAffiliateStatus(42, 7, engine::AffiliateStatus::kDisabled);
  order.order_id = "order-self";
  order.email = "user0@example.com";  // Now affiliate 9 herself: a self-referral.
  order.referral_affiliate = 9;
  (void)engine->Attribute(order);
  order.order_id = "order-disabled";
  order.email = "user6@example.com";  // Connected to 7 (disabled): referral path.
  (void)engine->Attribute(order);
  // Customer identifiers (log tags 10-13, the snapshot's identity blocks): an order
  // linking an external id, a manual link and unlink, a conflict merge, settings.
  engine::ShopSettingsPatch ids;
  ids.merge_conflict = engine::MergeConflictRule::kKeepExternalId;
  (void)engine->UpdateSettings(42, ids);
  order.order_id = "order-link";
  order.email = "user1@example.com";
  order.external_id = "cus_1";
  order.referral_affiliate.reset();
  (void)engine->Attribute(order);
  (void)engine->LinkIdentifier(42, engine::CustomerRef{"user1@example.com", std::nullopt},
                               engine::CustomerRef{"user1.new@example.org", std::nullopt});
  (void)engine->LinkIdentifier(42, engine::CustomerRef{"user1@example.com", std::nullopt},
                               engine::CustomerRef{"user1.old@example.org", std::nullopt});
  (void)engine->UnlinkIdentifier(42, engine::CustomerRef{"user1.old@example.org", std::nullopt});
  order.order_id = "order-merge";
  order.email = "user2@example.com";  // Connected: merged into cus_1's customer.
  (void)engine->Attribute(order);
  FillRest(engine);
}

// One log record per connect: the mutations the engine hands its sink.
class Collect final : public engine::MutationSink {
 public:
  explicit Collect(std::string* segment) : segment_(segment) {}
  void OnMutation(const engine::Mutation& m) override {
    std::string payload;
    persistence::EncodeMutation(m, &payload);
    persistence::AppendRecord(seq_++, payload, segment_);
    // log_reader_fuzz's structured mode: 2-byte length, then the payload.
    structured_ += static_cast<char>(payload.size() & 0xff);
    structured_ += static_cast<char>(payload.size() >> 8);
    structured_ += payload;
    payloads_.push_back(payload);
  }
  const std::string& structured() const { return structured_; }
  const std::vector<std::string>& payloads() const { return payloads_; }

 private:
  std::string* segment_;
  uint64_t seq_ = 1000;
  std::string structured_ = std::string(1, '\1');
  std::vector<std::string> payloads_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus CORPUS_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  attrib::fuzz::WriteFrameSeeds(dir + "/frame_fuzz");

  engine::FakeClock clock(1'700'000'000'000);
  bool missing = false;
  {
    std::string segment = persistence::EncodeSegmentHeader({1000, 1});
    Collect sink(&segment);
    engine::EngineOptions o = Options(&clock);
    o.sink = &sink;
    engine::Engine engine(o);
    Fill(&engine);
    WriteSeedFile(dir + "/log_reader_fuzz/segment", std::string(1, '\0') + segment);
    WriteSeedFile(dir + "/log_reader_fuzz/payloads", sink.structured());
    // One payload per log tag (the first of each), named by it: tag01 ... tag20.
    std::vector<bool> tag_written(256, false);
    for (const std::string& payload : sink.payloads()) {
      const auto tag = static_cast<uint8_t>(payload[0]);
      if (tag_written[tag]) continue;
      tag_written[tag] = true;
      char name[16];
      std::snprintf(name, sizeof(name), "/tag%02d", tag);
      WriteSeedFile(dir + "/mutation_codec_fuzz" + name, payload);
    }
    for (int tag = 1; tag <= kMaxTag; ++tag) {
      if (!tag_written[tag]) {
        std::fprintf(stderr, "make_fuzz_corpus: no mutation with log tag %d\n", tag);
        missing = true;
      }
    }
    if (segment.size() + 1 > kMaxSeedBytes || sink.structured().size() > kMaxSeedBytes) {
      std::fprintf(stderr, "make_fuzz_corpus: the log seeds are over %zu bytes\n",
                   kMaxSeedBytes);
      missing = true;
    }
  }
  {
    engine::Engine engine(Options(&clock));
    Fill(&engine);
    persistence::FaultInjectingFileSystem fs;
    if (!fs.CreateDir("snap").ok()) return 1;
    auto info = persistence::WriteSnapshot(&fs, "snap", engine, [] { return 1000; },
                                           1'700'000'000'000);
    if (!info.ok()) {
      std::fprintf(stderr, "make_fuzz_corpus: %s\n", info.status().ToString().c_str());
      return 1;
    }
    auto bytes = fs.ReadFile(info->path);
    if (!bytes.ok()) return 1;
    WriteSeedFile(dir + "/snapshot_reader_fuzz/snapshot", *bytes);
    // Every block type, read from the frames (snapshot_format.h).
    std::vector<bool> seen(256, false);
    for (size_t at = persistence::kSnapshotHeaderBytes;
         at + persistence::kBlockFrameBytes < bytes->size();) {
      const auto* p = reinterpret_cast<const uint8_t*>(bytes->data()) + at;
      const uint32_t length = p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
      seen[p[persistence::kBlockFrameBytes]] = true;
      at += persistence::kBlockFrameBytes + length;
    }
    for (int type = 1; type <= static_cast<int>(persistence::SnapshotBlockType::kCustomers);
         ++type) {
      if (!seen[type]) {
        std::fprintf(stderr, "make_fuzz_corpus: no snapshot block of type %d\n", type);
        missing = true;
      }
    }
    if (bytes->size() > kMaxSeedBytes) {
      std::fprintf(stderr, "make_fuzz_corpus: the snapshot is over %zu bytes\n", kMaxSeedBytes);
      missing = true;
    }
  }
  return missing ? 1 : 0;
}
