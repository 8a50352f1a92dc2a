// bench/load_client.cc
//
// A small closed-loop load generator for attribd (the full harness with Redis
// comparison is attrib-bench, a later issue): N connections, each on its own thread,
// one request in flight per connection, for a fixed duration. Reports throughput
// and latency percentiles. Used by bench/durability_bench.sh for durable writes per
// fsync mode and for lookup latency while a snapshot runs.
//
//   load_client --server=127.0.0.1:7411 --op=connect --connections=50 --seconds=10
//   load_client --op=lookup --keys=1000000 ...   (keys c<i>@bench.com, i < keys)
//
// Thread-safety: one Client per thread; results merged after join.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "bench/email_generator.h"
#include "net/client.h"

ABSL_FLAG(std::string, server, "127.0.0.1:7411", "attribd address.");
ABSL_FLAG(std::string, op, "connect", "connect (fresh customers) or lookup.");
ABSL_FLAG(int, connections, 50, "Client connections (one thread each).");
ABSL_FLAG(double, seconds, 10, "Duration of the run.");
ABSL_FLAG(int64_t, keys, 1'000'000, "lookup: key space (RealisticEmail(i, seed) for i < keys).");
ABSL_FLAG(uint64_t, seed, 42, "Seed of the email generator.");
ABSL_FLAG(uint64_t, shop, 1, "Shop id.");
ABSL_FLAG(int64_t, preload, 0, "Connect this many keys first (pipelined), then run.");

namespace {

using Clock = std::chrono::steady_clock;

int Run() {
  const std::string op = absl::GetFlag(FLAGS_op);
  const int n = absl::GetFlag(FLAGS_connections);
  const uint64_t shop = absl::GetFlag(FLAGS_shop);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int64_t keys = absl::GetFlag(FLAGS_keys);
  if (op != "connect" && op != "lookup") {
    std::fprintf(stderr, "load_client: --op must be connect or lookup\n");
    return 2;
  }
  const int64_t preload = absl::GetFlag(FLAGS_preload);
  if (preload > 0) {
    auto c = attrib::net::Client::Connect(absl::GetFlag(FLAGS_server), {});
    if (!c.ok()) {
      std::fprintf(stderr, "load_client: %s\n", std::string(c.status().message()).c_str());
      return 3;
    }
    const auto start = Clock::now();
    int64_t outstanding = 0;
    for (int64_t i = 0; i < preload; ++i) {
      capnp::MallocMessageBuilder m;
      auto r = m.initRoot<attrib::net::wire::Request>();
      r.setId(static_cast<uint64_t>(i + 1));
      auto cr = r.initConnect();
      cr.setShop(shop);
      cr.setEmail(attrib::bench::RealisticEmail(static_cast<uint64_t>(i), seed));
      cr.setAffiliate(1 + static_cast<uint64_t>(i) % 1000);
      if (!(*c)->Send(m).ok()) return 3;
      if (++outstanding == 1024) {
        if (!(*c)->Flush().ok()) return 3;
        for (; outstanding > 512; --outstanding) {
          if (!(*c)->Receive().ok()) return 3;
        }
      }
    }
    if (!(*c)->Flush().ok()) return 3;
    for (; outstanding > 0; --outstanding) {
      if (!(*c)->Receive().ok()) return 3;
    }
    std::printf("preloaded %lld connections in %.2f s\n", static_cast<long long>(preload),
                std::chrono::duration<double>(Clock::now() - start).count());
  }

  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds)));
  std::vector<std::vector<double>> latencies(n);
  std::atomic<int64_t> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      auto c = attrib::net::Client::Connect(absl::GetFlag(FLAGS_server), {});
      if (!c.ok()) {
        ++errors;
        return;
      }
      uint64_t x = seed * 1000003 + static_cast<uint64_t>(t);
      for (uint64_t i = 0; Clock::now() < deadline; ++i) {
        const auto start = Clock::now();
        absl::Status s;
        if (op == "connect") {
          attrib::engine::ConnectRequest r;
          r.shop = shop;
          r.email = absl::StrCat("w", t, "-", i, "-", seed, "@bench.com");
          r.affiliate = 1 + i % 1000;
          s = (*c)->Connect(r).status();
        } else {
          x = x * 6364136223846793005ull + 1442695040888963407ull;
          s = (*c)->Lookup(shop, attrib::bench::RealisticEmail((x >> 11) % keys, seed)).status();
        }
        if (!s.ok()) ++errors;
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  const double secs = absl::GetFlag(FLAGS_seconds);
  std::printf("%s: %d connections, %.1f s: %.0f ops/s; latency us p50 %.0f p90 %.0f p99 %.0f "
              "p99.9 %.0f max %.0f; errors %lld\n",
              op.c_str(), n, secs, all.size() / secs, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
              all.empty() ? 0.0 : all.back(), static_cast<long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Run();
}
