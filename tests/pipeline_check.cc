// tests/pipeline_check.cc: the shared pipelining workload (see the header).
#include "tests/pipeline_check.h"

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "gtest/gtest.h"
#include "net/frame.h"

namespace attrib::testing {

void ExpectPipelinedRepliesInOrder(net::Client* client, uint64_t requests) {
  for (uint64_t i = 0; i < requests; ++i) {
    capnp::MallocMessageBuilder m;
    auto r = m.initRoot<net::wire::Request>();
    r.setId(1000 + i);
    if (i % 2 == 0) {
      auto c = r.initConnect();
      c.setShop(1);
      c.setEmail(absl::StrCat("p", i, "@x.com"));
      c.setAffiliate(1 + i % 7);
    } else {
      auto l = r.initLookup();
      l.setShop(1);
      l.setEmail(absl::StrCat("p", i - 1, "@x.com"));
    }
    ASSERT_TRUE(client->Send(m).ok());
  }
  ASSERT_TRUE(client->Flush().ok());
  for (uint64_t i = 0; i < requests; ++i) {
    auto reply = client->Receive();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status();
    ASSERT_EQ(reply->get().getId(), 1000 + i);
    if (i % 2 == 1) {
      ASSERT_TRUE(reply->get().isLookup());
      ASSERT_TRUE(reply->get().getLookup().getFound()) << i;
      ASSERT_EQ(reply->get().getLookup().getConnection().getAffiliate(), 1 + (i - 1) % 7);
    }
  }
}

std::string LookupFrame(uint64_t id, const std::string& email) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<net::wire::Request>();
  r.setId(id);
  auto l = r.initLookup();
  l.setShop(1);
  l.setEmail(email);
  const kj::Array<capnp::word> words = net::EncodeFrame(m);
  return std::string(words.asChars().begin(), words.asChars().size());
}

void ExpectNeverReadingClientIsPaused(const AttribdProcess& server, net::Client* setup,
                                      const FillFunction& fill) {
  engine::ConnectRequest c;
  c.shop = 1;
  c.email = "slow@reader.com";
  c.affiliate = 3;
  ASSERT_TRUE(setup->Connect(c).ok());
  const size_t rss_before = server.RssBytes();
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += LookupFrame(1, "slow@reader.com");
  // Send until the socket stays full for 2 s: the server stopped reading. A server
  // that kept reading would take all 256 MiB (and queue a reply for each request).
  constexpr size_t kMax = 256u << 20;
  const size_t sent = fill(burst, 2000, kMax);
  ASSERT_LT(sent, kMax) << "the server never stopped reading a client that never reads";
  const size_t per_request = LookupFrame(1, "slow@reader.com").size();
  // Much more was sent than the output cap allows to be queued as replies...
  EXPECT_GT(sent, 4 * per_request * 1000);
  // ...yet the server holds only the cap plus socket buffers, not every reply.
  EXPECT_LT(server.RssBytes(), rss_before + (32u << 20)) << "sent " << sent << " bytes";
  EXPECT_TRUE(setup->Ping().ok()) << "server stopped serving; stderr: " << server.Stderr();
}

}  // namespace attrib::testing
