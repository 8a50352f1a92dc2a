// tests/pipeline_check.cc: the shared pipelining workload (see the header).
#include "tests/pipeline_check.h"

#include "absl/strings/str_cat.h"
#include "capnp/message.h"
#include "gtest/gtest.h"

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

}  // namespace attrib::testing
