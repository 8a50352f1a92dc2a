// fuzz/make_corpus.cc
//
// Writes the binary seed corpora of the fuzz targets (fuzz/make_corpus.sh runs it):
// real request streams for frame_fuzz, a real WAL segment for log_reader_fuzz (and
// its payloads for mutation_codec_fuzz), and a real snapshot (4 shards) for
// snapshot_reader_fuzz, all produced by the project's own encoders at a few KB. Usage: make_fuzz_corpus CORPUS_DIR (fuzz/corpus).
//
// Thread-safety: a single-threaded program.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "capnp/message.h"
#include "capnp/serialize.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "net/attrib.capnp.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_format.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"

namespace {

using namespace attrib;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_fuzz_corpus: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

std::string Frame(uint64_t id, const std::function<void(net::wire::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<net::wire::Request>();
  request.setId(id);
  fill(request);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(words.begin()), words.asBytes().size());
}

void Connect(net::wire::Request::Builder r) {
  auto c = r.initConnect();
  c.setShop(42);
  c.setEmail(" Jane.Doe+promo@GoogleMail.com ");
  c.setAffiliate(7);
  c.setName("Jane");
}

void Lookup(net::wire::Request::Builder r) {
  auto l = r.initLookup();
  l.setShop(42);
  l.setEmail("janedoe@gmail.com");
}

void Frames(const std::string& dir) {
  WriteFile(dir + "/connect", Frame(1, Connect));
  WriteFile(dir + "/lookup", Frame(2, Lookup));
  WriteFile(dir + "/ping", Frame(3, [](auto r) { r.setPing(); }));
  WriteFile(dir + "/stats", Frame(4, [](auto r) { r.setStats(); }));
  WriteFile(dir + "/settings", Frame(5, [](auto r) { r.initGetSettings().setShop(42); }));
  // Pipelined: connect, lookups (prepared ahead), disconnect.
  std::string stream = Frame(1, Connect);
  for (uint64_t id = 2; id < 6; ++id) stream += Frame(id, Lookup);
  stream += Frame(6, [](auto r) {
    auto d = r.initDisconnect();
    d.setShop(42);
    d.setEmail("jane.doe@gmail.com");
  });
  WriteFile(dir + "/pipelined", stream);
  // The affiliate directory (issue 12): put, search, disable, the new settings.
  const auto put = [](net::wire::Request::Builder r) {
    auto p = r.initPutAffiliate();
    p.setShop(42);
    p.setId(7);
    p.setName("Ann Lee");
    auto emails = p.initEmails(2);
    emails.set(0, "Ann.Lee@GoogleMail.com");
    emails.set(1, "ann@example.com");
    p.getStatus().setSet(net::wire::AffiliateStatus::ACTIVE);
  };
  WriteFile(dir + "/affiliate_put", Frame(7, put));
  // Customer identifiers (issue 12).
  WriteFile(dir + "/customer_link", Frame(9, [](auto r) {
    auto l = r.initLinkIdentifier();
    l.initCustomer().setShop(42);
    l.getCustomer().setEmail("jane.doe@gmail.com");
    l.setExternalId("cus_1");
  }));
  WriteFile(dir + "/customer_merge", Frame(10, [](auto r) {
    auto m = r.initMergeCustomers();
    m.initInto().setShop(42);
    m.getInto().setExternalId("cus_1");
    m.initFrom().setEmail("bob@example.com");
    m.setKeep(net::wire::MergeCustomersRequest::MergeKeep::EARLIEST);
  }));
  WriteFile(dir + "/affiliate_search", Frame(8, [](auto r) {
    auto q = r.initSearchAffiliates();
    q.setShop(42);
    q.setNamePrefix("an");
    q.getStatus().setOnly(net::wire::AffiliateStatus::ACTIVE);
    q.setLimit(10);
  }));
  std::string affiliates = Frame(1, put);
  affiliates += Frame(2, [](auto r) {
    auto p = r.initPutSettings();
    p.setShop(42);
    p.getPatch().getOnCustomerBecomesAffiliate().setSet(
        net::wire::CustomerBecomesAffiliate::DISCONNECT);
    p.getPatch().getRequireRegisteredAffiliates().setSet(true);
    p.getPatch().getBlockSelfReferrals().setSet(true);
  });
  affiliates += Frame(3, [](auto r) {
    auto a = r.initAttribute();
    a.setShop(42);
    a.setOrderId("self-1");
    a.setEmail("ann@example.com");
    a.setReferralAffiliate(7);
  });
  affiliates += Frame(4, [](auto r) {
    auto d = r.initDisableAffiliate();
    d.setShop(42);
    d.setId(7);
  });
  affiliates += Frame(5, [](auto r) {
    auto g = r.initGetAffiliate();
    g.setShop(42);
    g.setId(7);
  });
  WriteFile(dir + "/affiliate_pipelined", affiliates);
}

engine::EngineOptions Options(const engine::Clock* clock) {
  engine::EngineOptions o;
  o.shard_count = 4;
  o.clock = clock;
  return o;
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
  Frames(dir + "/frame_fuzz");

  engine::FakeClock clock(1'700'000'000'000);
  {
    std::string segment = persistence::EncodeSegmentHeader({1000, 1});
    Collect sink(&segment);
    engine::EngineOptions o = Options(&clock);
    o.sink = &sink;
    engine::Engine engine(o);
    Fill(&engine);
    WriteFile(dir + "/log_reader_fuzz/segment", std::string(1, '\0') + segment);
    WriteFile(dir + "/log_reader_fuzz/payloads", sink.structured());
    // The first few distinct mutations (connect, attribute) for the codec alone, and
    // one of each tag from 6 on (the affiliate directory's).
    std::vector<bool> tag_written(256, false);
    for (size_t i = 0; i < sink.payloads().size(); ++i) {
      const auto tag = static_cast<uint8_t>(sink.payloads()[i][0]);
      if (i % 7 != 0 && (tag < 6 || tag_written[tag])) continue;
      tag_written[tag] = true;
      WriteFile(dir + "/mutation_codec_fuzz/payload" + std::to_string(i), sink.payloads()[i]);
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
    WriteFile(dir + "/snapshot_reader_fuzz/snapshot", *bytes);
  }
  return 0;
}
