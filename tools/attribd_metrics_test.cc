// tools/attribd_metrics_test.cc: what /metrics shows, gathered from an in-process
// engine and handler (the server and durability parts run end to end in
// tests/metrics_e2e_test.cc).
#include "tools/attribd_metrics.h"

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace attrib::tools {
namespace {

TEST(AttribdMetricsTest, EveryFamilyOnceWithHelpAndTheStoreByShard) {
  engine::EngineOptions options;
  options.shard_count = 16;
  engine::Engine engine(options);
  for (int i = 0; i < 10; ++i) {
    engine::ConnectRequest c;
    c.shop = 1;
    c.affiliate = 2;
    c.email = absl::StrCat("c", i, "@example.com");
    ASSERT_TRUE(engine.Connect(c).ok());
  }
  net::RequestHandler handler(&engine, net::HandlerOptions{});
  AttribdMetricsSources sources;
  sources.engine = &engine;
  sources.handler = &handler;
  sources.recovery.replayed = 42;
  sources.recovered_connections = 7;
  const std::string text = CollectAttribdMetrics(sources);

  std::map<std::string, int> helps, types;
  uint64_t store_sum = 0;
  int shards = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const std::vector<std::string> words = absl::StrSplit(line, ' ');
    if (absl::StartsWith(line, "# HELP ")) {
      ++helps[words[2]];
      EXPECT_GT(words.size(), 3u) << "empty help: " << line;
    } else if (absl::StartsWith(line, "# TYPE ")) {
      ++types[words[2]];
    } else if (absl::StartsWith(line, "attrib_store_connections{shard=\"")) {
      store_sum += std::stoull(words.back());
      ++shards;
    }
  }
  EXPECT_EQ(helps, types);
  for (const auto& [name, n] : helps) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(helps.count("attrib_request_duration_seconds"), 1u);
  EXPECT_EQ(helps.count("attrib_wal_bytes_total"), 0u);  // No durability source.
  EXPECT_EQ(shards, 16);
  EXPECT_EQ(store_sum, 10u);
  EXPECT_TRUE(absl::StrContains(text, "\nattrib_recovery_replayed_records 42\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\nattrib_recovery_connections 7\n")) << text;
  EXPECT_GT(ProcessResidentBytes(), 0u);
}

}  // namespace
}  // namespace attrib::tools
