// fuzz/corpus_frames.cc
//
// The frame_fuzz seeds (corpus_frames.h): every Request union member, each after a
// connect and an affiliate put so that it finds something to work on, and the
// pipelined streams the server prepares ahead.
//
// Thread-safety: single-threaded (the corpus generator).
#include "fuzz/corpus_frames.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "capnp/message.h"
#include "capnp/serialize.h"
#include "net/attrib.capnp.h"

namespace attrib::fuzz {
namespace {

using net::wire::Request;
using Fill = std::function<void(Request::Builder)>;

std::string Frame(uint64_t id, const Fill& fill) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<Request>();
  request.setId(id);
  fill(request);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(words.begin()), words.asBytes().size());
}

void Connect(Request::Builder r) {
  auto c = r.initConnect();
  c.setShop(42);
  c.setEmail(" Jane.Doe+promo@GoogleMail.com ");
  c.setAffiliate(7);
  c.setName("Jane");
  c.setExternalId("cus_1");
}

void Lookup(Request::Builder r) {
  auto l = r.initLookup();
  l.setShop(42);
  l.setEmail("janedoe@gmail.com");
}

void PutAffiliate(Request::Builder r) {
  auto p = r.initPutAffiliate();
  p.setShop(42);
  p.setId(7);
  p.setName("Ann Lee");
  auto emails = p.initEmails(2);
  emails.set(0, "Ann.Lee@GoogleMail.com");
  emails.set(1, "ann@example.com");
  p.getStatus().setSet(net::wire::AffiliateStatus::ACTIVE);
}

void Customer(net::wire::CustomerRequest::Builder c, const char* email, const char* external) {
  c.setShop(42);
  if (email != nullptr) c.setEmail(email);
  if (external != nullptr) c.setExternalId(external);
}

// One seed per Request union member, named after it (corpus_coverage_test.cc).
std::vector<std::pair<std::string, Fill>> Members() {
  std::vector<std::pair<std::string, Fill>> m;
  m.emplace_back("connect", Connect);
  m.emplace_back("disconnect", [](Request::Builder r) {
    auto d = r.initDisconnect();
    d.setShop(42);
    d.setExternalId("cus_1");
  });
  m.emplace_back("lookup", Lookup);
  m.emplace_back("lookupBatch", [](Request::Builder r) {
    auto b = r.initLookupBatch();
    b.setShop(42);
    auto emails = b.initEmails(3);
    emails.set(0, "janedoe@gmail.com");
    emails.set(1, "not-an-email");
    emails.set(2, "bob@example.com");
  });
  m.emplace_back("list", [](Request::Builder r) {
    auto l = r.initList();
    l.setShop(42);
    l.setAffiliate(7);
    l.setEmailPrefix("jane");
    l.getSource().setOnly(net::wire::Source::API);
    l.setLimit(10);
  });
  m.emplace_back("count", [](Request::Builder r) { r.initCount().setShop(42); });
  m.emplace_back("getSettings", [](Request::Builder r) { r.initGetSettings().setShop(42); });
  m.emplace_back("putSettings", [](Request::Builder r) {
    auto p = r.initPutSettings();
    p.setShop(42);
    auto patch = p.getPatch();
    patch.getValidityDays().setSet(30);
    patch.getValidityMode().setSet(net::wire::ValidityMode::SLIDING);
    patch.getOnCustomerBecomesAffiliate().setSet(net::wire::CustomerBecomesAffiliate::DISCONNECT);
    patch.getRequireRegisteredAffiliates().setSet(true);
    patch.getAutoLinkIdentifiers().setSet(false);
    patch.getMergeConflict().setSet(net::wire::MergeConflict::KEEP_EXTERNAL_ID);
    patch.getCustomerDirectory().setSet(false);
  });
  m.emplace_back("attribute", [](Request::Builder r) {
    auto a = r.initAttribute();
    a.setShop(42);
    a.setOrderId("order-1");
    a.setEmail("jane.doe@gmail.com");
    a.setExternalId("cus_2");
    a.setCustomerIsNew(net::wire::Tristate::NO);
    a.setName("Jane D");
  });
  m.emplace_back("reverse", [](Request::Builder r) {
    auto o = r.initReverse();
    o.setShop(42);
    o.setOrderId("order-1");
  });
  m.emplace_back("explain", [](Request::Builder r) {
    auto o = r.initExplain();
    o.setShop(42);
    o.setOrderId("order-1");
  });
  m.emplace_back("stats", [](Request::Builder r) { r.setStats(); });
  m.emplace_back("snapshot", [](Request::Builder r) { r.setSnapshot(); });
  m.emplace_back("auth", [](Request::Builder r) { r.initAuth().setToken("secret-token"); });
  m.emplace_back("ping", [](Request::Builder r) { r.setPing(); });
  m.emplace_back("putAffiliate", PutAffiliate);
  m.emplace_back("getAffiliate", [](Request::Builder r) {
    auto g = r.initGetAffiliate();
    g.setShop(42);
    g.setId(7);
  });
  m.emplace_back("disableAffiliate", [](Request::Builder r) {
    auto d = r.initDisableAffiliate();
    d.setShop(42);
    d.setId(7);
  });
  m.emplace_back("searchAffiliates", [](Request::Builder r) {
    auto q = r.initSearchAffiliates();
    q.setShop(42);
    q.setNamePrefix("an");
    q.getStatus().setOnly(net::wire::AffiliateStatus::ACTIVE);
    q.setLimit(10);
  });
  m.emplace_back("getCustomer", [](Request::Builder r) {
    Customer(r.initGetCustomer(), nullptr, "cus_1");
  });
  m.emplace_back("linkIdentifier", [](Request::Builder r) {
    auto l = r.initLinkIdentifier();
    Customer(l.initCustomer(), "jane.doe@gmail.com", nullptr);
    l.setEmail("jane@example.org");
  });
  m.emplace_back("unlinkIdentifier", [](Request::Builder r) {
    Customer(r.initUnlinkIdentifier(), nullptr, "cus_1");
  });
  m.emplace_back("mergeCustomers", [](Request::Builder r) {
    auto g = r.initMergeCustomers();
    Customer(g.initInto(), nullptr, "cus_1");
    Customer(g.initFrom(), "bob@example.com", nullptr);
    g.setKeep(net::wire::MergeCustomersRequest::MergeKeep::EARLIEST);
  });
  m.emplace_back("promote", [](Request::Builder r) { r.initPromote().setForce(true); });
  m.emplace_back("searchCustomers", [](Request::Builder r) {
    auto q = r.initSearchCustomers();
    q.setShop(42);
    q.setEmailPrefix("jane");
    q.setNamePrefix("ja");
    q.setLimit(5);
  });
  m.emplace_back("putCustomer", [](Request::Builder r) {
    auto p = r.initPutCustomer();
    Customer(p.initCustomer(), nullptr, "cus_1");
    p.setName("Jane Doe");
  });
  return m;
}

}  // namespace

void WriteSeedFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_fuzz_corpus: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

void WriteFrameSeeds(const std::string& dir) {
  // Each member alone, and after a connect (with an external id) and an affiliate
  // put, so that customer and affiliate requests find their records.
  for (const auto& [name, fill] : Members()) {
    WriteSeedFile(dir + "/" + name, Frame(1, fill));
    WriteSeedFile(dir + "/after_setup_" + name,
                  Frame(1, Connect) + Frame(2, PutAffiliate) + Frame(3, fill));
  }
  // Issue 16, read-your-writes: a read that waits for a sequence number.
  WriteSeedFile(dir + "/lookup_min_seq", Frame(1, [](Request::Builder r) {
                  Lookup(r);
                  r.setMinSeq(1);
                }));
  // Pipelined: connect, lookups (prepared ahead), disconnect.
  std::string stream = Frame(1, Connect);
  for (uint64_t id = 2; id < 6; ++id) stream += Frame(id, Lookup);
  stream += Frame(6, [](Request::Builder r) {
    auto d = r.initDisconnect();
    d.setShop(42);
    d.setEmail("jane.doe@gmail.com");
  });
  WriteSeedFile(dir + "/pipelined", stream);
  // The affiliate directory: put, settings, a self-referral, disable, get.
  std::string affiliates = Frame(1, PutAffiliate);
  affiliates += Frame(2, [](Request::Builder r) {
    auto p = r.initPutSettings();
    p.setShop(42);
    p.getPatch().getOnCustomerBecomesAffiliate().setSet(
        net::wire::CustomerBecomesAffiliate::DISCONNECT);
    p.getPatch().getRequireRegisteredAffiliates().setSet(true);
    p.getPatch().getBlockSelfReferrals().setSet(true);
  });
  affiliates += Frame(3, [](Request::Builder r) {
    auto a = r.initAttribute();
    a.setShop(42);
    a.setOrderId("self-1");
    a.setEmail("ann@example.com");
    a.setReferralAffiliate(7);
  });
  affiliates += Frame(4, [](Request::Builder r) {
    auto d = r.initDisableAffiliate();
    d.setShop(42);
    d.setId(7);
  });
  affiliates += Frame(5, [](Request::Builder r) {
    auto g = r.initGetAffiliate();
    g.setShop(42);
    g.setId(7);
  });
  WriteSeedFile(dir + "/affiliate_pipelined", affiliates);
  // Customers: a guest order, a second email linked, a merge, a name, a search.
  std::string customers = Frame(1, Connect);
  customers += Frame(2, [](Request::Builder r) {
    auto a = r.initAttribute();
    a.setShop(42);
    a.setOrderId("guest-1");
    a.setEmail("bob@example.com");
    a.setName("Bob");
  });
  customers += Frame(3, [](Request::Builder r) {
    auto l = r.initLinkIdentifier();
    Customer(l.initCustomer(), nullptr, "cus_1");
    l.setEmail("jane@example.org");
  });
  customers += Frame(4, [](Request::Builder r) {
    auto g = r.initMergeCustomers();
    Customer(g.initInto(), nullptr, "cus_1");
    Customer(g.initFrom(), "bob@example.com", nullptr);
  });
  customers += Frame(5, [](Request::Builder r) {
    auto p = r.initPutCustomer();
    Customer(p.initCustomer(), "jane@example.org", nullptr);
    p.setName("Jane Doe");
  });
  customers += Frame(6, [](Request::Builder r) {
    auto q = r.initSearchCustomers();
    q.setShop(42);
    q.setExternalId("cus_1");
  });
  WriteSeedFile(dir + "/customer_pipelined", customers);
}

}  // namespace attrib::fuzz
