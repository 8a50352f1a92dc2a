// bench/list_bench.cc
//
// List pages (SPEC §9: a 100-row page of a 1M-connection shop in a 10M store, p99
// <= 5 ms, filtered or not): loads --connections realistic emails
// (bench/email_generator.h) through Engine::Connect, either spread over --shops
// shops (layout "shops": shop 1 then holds connections/shops) or all in one shop
// (layout "one_shop"), then times --pages list pages per case, each from a cursor
// at a random existing customer of shop 1 (so pages land all over the order), and
// prints p50 / p99 / max per case. Shop 1's customers are assigned so that every
// filter case exists: affiliate 1 holds ~30% of them ("big"), affiliate 2 exactly
// --small_affiliate ("small"), the rest spread over 1000 affiliates ("typical",
// ~0.07% each); 1% have source referral.
//
// Also prints the time of the first index refresh after the load (the index build
// a bulk load leaves to the first page, list_index.h) and, with --lookups, the p50
// / p99 of single lookups on one thread, alone and while another thread reads
// pages (taskset the two threads' cores as you like; the machine's noise matters).
//
// Thread-safety: a load thread, then one or two measuring threads on the engine.
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/email_generator.h"
#include "engine/canonical_email.h"
#include "engine/connection_list.h"
#include "engine/engine.h"

ABSL_FLAG(int64_t, connections, 10'000'000, "Connections to load.");
ABSL_FLAG(int64_t, shops, 10, "Shops (layout shops).");
ABSL_FLAG(std::string, layout, "shops", "shops: spread over --shops; one_shop: all in shop 1.");
ABSL_FLAG(int64_t, pages, 1000, "Pages timed per case.");
ABSL_FLAG(int64_t, small_affiliate, 10, "Customers of the small affiliate (affiliate 2).");
ABSL_FLAG(uint64_t, seed, 42, "Seed of the realistic email sequence and of the cursors.");
ABSL_FLAG(bool, lookups, true, "Also time lookups alone and while pages are read.");
ABSL_FLAG(int, cpu, -1, "Pin the measuring thread to this CPU (-1: no pinning).");
ABSL_FLAG(int, lister_cpu, -1,
          "Pin the thread that reads pages during the lookup measurement (-1: no pinning).");

namespace attrib::bench {
namespace {

using Clock = std::chrono::steady_clock;

void PinTo(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
    std::fprintf(stderr, "cannot pin to CPU %d\n", cpu);
  }
}

uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// CPU time of the calling thread: on a shared machine a page's wall time includes
// the time other processes held the core; this does not.
double ThreadCpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles Of(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  p.max = v.back();
  return p;
}

struct Case {
  std::string name;
  engine::ListRequest request;  // Without the cursor.
  bool random_cursor = true;
};

int Run() {
  const int64_t n = absl::GetFlag(FLAGS_connections);
  const bool one_shop = absl::GetFlag(FLAGS_layout) == "one_shop";
  const int64_t shops = one_shop ? 1 : absl::GetFlag(FLAGS_shops);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const int64_t small = absl::GetFlag(FLAGS_small_affiliate);
  if (n <= 0 || shops <= 0) return 2;
  PinTo(absl::GetFlag(FLAGS_cpu));

  engine::Engine engine{engine::EngineOptions{}};
  std::vector<uint64_t> shop1;  // Indexes of shop 1's customers.
  const auto load_start = Clock::now();
  engine::ConnectRequest req;
  int64_t small_left = small;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t u = static_cast<uint64_t>(i);
    req.shop = 1 + u % static_cast<uint64_t>(shops);
    req.email = RealisticEmail(u, seed);
    const uint64_t m = Mix(u);
    req.source = m % 100 == 0 ? engine::Source::kReferral : engine::Source::kApi;
    if (req.shop != 1) {
      req.affiliate = 1 + m % 1000;
    } else {
      shop1.push_back(u);
      if (small_left > 0 && (m >> 20) % 50000 == 0) {
        req.affiliate = 2;
        --small_left;
      } else if ((m >> 8) % 100 < 30) {
        req.affiliate = 1;
      } else {
        req.affiliate = 3 + (m >> 32) % 1000;
      }
    }
    if (!engine.Connect(req).ok()) {
      std::fprintf(stderr, "connect %s failed\n", req.email.c_str());
      return 1;
    }
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  const auto refresh_start = Clock::now();
  engine.store().RefreshListOrders();
  const double refresh_s = std::chrono::duration<double>(Clock::now() - refresh_start).count();
  const engine::StoreMemory m = engine.Stats().memory;
  std::printf("loaded %lld connections (%lld shops, shop 1: %zu; small affiliate: %lld) in "
              "%.1f s\n",
              static_cast<long long>(n), static_cast<long long>(shops), shop1.size(),
              static_cast<long long>(engine.store().CountAffiliate(1, 2)), load_s);
  std::printf("first list-order refresh (index build after the load): %.3f s; list index "
              "%.2f B per connection\n",
              refresh_s, static_cast<double>(m.list_index_bytes) / static_cast<double>(n));

  // Cursors at random customers of shop 1.
  std::mt19937_64 rng(seed);
  const int64_t pages = absl::GetFlag(FLAGS_pages);
  std::vector<std::string> cursors;
  for (int64_t i = 0; i < pages; ++i) {
    const uint64_t u = shop1[rng() % shop1.size()];
    absl::StatusOr<engine::CanonicalEmail> c =
        engine::Canonicalize(RealisticEmail(u, seed), engine.email_policy());
    cursors.push_back(engine::EncodeListCursor(c->canonical));
  }
  std::vector<Case> cases;
  engine::ListRequest base;
  base.shop = 1;
  base.limit = 100;
  cases.push_back({"unfiltered", base});
  engine::ListRequest r = base;
  r.affiliate = 1;
  cases.push_back({"affiliate big (~30%)", r});
  r.affiliate = 500;
  cases.push_back({"affiliate typical (~0.07%)", r});
  r.affiliate = 2;
  cases.push_back({absl::StrFormat("affiliate small (%lld), first page", small), r, false});
  r = base;
  r.source = engine::Source::kReferral;
  cases.push_back({"source referral (1%)", r});
  r = base;
  r.email_prefix = "ma";
  cases.push_back({"email prefix \"ma\", first page", r, false});
  r.email_prefix = "ma";
  cases.push_back({"email prefix \"ma\"", r});
  r.email_prefix = "john";
  cases.push_back({"email prefix \"john\"", r});

  const auto run_case = [&](const Case& c, std::vector<double>* wall, std::vector<double>* cpu,
                            size_t* rows) {
    for (int64_t i = 0; i < pages; ++i) {
      engine::ListRequest q = c.request;
      if (c.random_cursor) q.cursor = cursors[static_cast<size_t>(i)];
      const double c0 = ThreadCpuMicros();
      const auto t0 = Clock::now();
      absl::StatusOr<engine::ListPage> page = engine.List(q);
      wall->push_back(Micros(Clock::now() - t0));
      cpu->push_back(ThreadCpuMicros() - c0);
      if (page.ok()) *rows += page->items.size();
    }
  };
  std::printf("%-36s %9s %9s %9s %9s %9s %8s\n", "100-row pages of shop 1", "p50 us",
              "p99 us", "max us", "cpu p50", "cpu p99", "rows/pg");
  for (const Case& c : cases) {
    std::vector<double> wall, cpu;
    size_t rows = 0;
    run_case(c, &wall, &cpu, &rows);
    const Percentiles p = Of(wall);
    const Percentiles pc = Of(cpu);
    std::printf("%-36s %9.0f %9.0f %9.0f %9.0f %9.0f %8.1f\n", c.name.c_str(), p.p50, p.p99,
                p.max, pc.p50, pc.p99, static_cast<double>(rows) / static_cast<double>(pages));
  }

  if (!absl::GetFlag(FLAGS_lookups)) return 0;
  // Lookups of random loaded customers: alone, then while a second thread reads
  // unfiltered pages back to back.
  std::vector<std::pair<engine::ShopId, std::string>> keys;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t u = rng() % static_cast<uint64_t>(n);
    keys.emplace_back(1 + u % static_cast<uint64_t>(shops), RealisticEmail(u, seed));
  }
  const auto time_lookups = [&] {
    std::vector<double> t;
    t.reserve(keys.size());
    for (const auto& [shop, email] : keys) {
      const auto t0 = Clock::now();
      (void)engine.Lookup(shop, email);
      t.push_back(Micros(Clock::now() - t0));
    }
    return Of(t);
  };
  const Percentiles alone = time_lookups();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> listed{0};
  std::thread lister([&] {
    PinTo(absl::GetFlag(FLAGS_lister_cpu));
    for (size_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      engine::ListRequest q = base;
      q.cursor = cursors[i % cursors.size()];
      (void)engine.List(q);
      listed.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const auto with_start = Clock::now();
  const Percentiles with = time_lookups();
  const double with_s = std::chrono::duration<double>(Clock::now() - with_start).count();
  stop = true;
  lister.join();
  std::printf("lookups, one thread: alone p50 %.2f us p99 %.2f us; while pages are read "
              "(%.0f pages/s on another thread): p50 %.2f us p99 %.2f us\n",
              alone.p50, alone.p99, static_cast<double>(listed.load()) / with_s, with.p50,
              with.p99);
  return 0;
}

}  // namespace
}  // namespace attrib::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // As the servers.
  return attrib::bench::Run();
}
