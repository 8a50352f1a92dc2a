// bench/engine_bench.cc
//
// In-process engine throughput (SPEC §9: "canonicalize + lookup >= 5M/s per core at
// 10M connections"). An Engine with EngineOptions defaults (256 shards, provider
// policy, system clock) is loaded once per N (1M, 10M) with realistic emails
// (bench/email_generator.h) spread over kShops shops and kAffiliates affiliates,
// then:
//   BM_CanonicalizeLookupHit/N   Engine::Lookup of existing emails (full Connection
//                                copy + status evaluation: what the API returns).
//   BM_CanonicalizeLookupMiss/N  Engine::Lookup of emails never inserted.
//   BM_StoreVisitHit/N           The zero-copy path a checkout needs: CanonicalizeInto
//                                + ConnectionStore::Visit reading only the affiliate.
//                                This is the SPEC §9 "canonicalize + lookup" figure.
//                                Also run with 2 threads (real time) for parallel reads.
//   BM_StoreVisitPrecanonical/N  Visit with keys canonicalized beforehand: the store's
//                                share of BM_StoreVisitHit (the rest is canonicalizing).
//   BM_BatchLookup128/N          Engine::LookupBatch of 128 emails of one shop.
//   BM_Connect                   Engine::Connect (if_absent) of fresh emails into an
//                                engine that starts empty and grows.
//   BM_Attribute                 Engine::Attribute (connection_first, unique order ids)
//                                on the customers of a 1M-connection engine.
// Probes are emails pre-generated (kProbes of them, random indices from a fixed-seed
// RNG) so the generator's cost stays out of the timed loop; iterating them in order
// is sequential memory traffic, while the keys they name are spread over the store.
// The load time of each N is printed on stderr.
//
// Thread-safety: the loaded fixtures are built under a mutex and only read after.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "bench/email_generator.h"
#include "benchmark/benchmark.h"
#include "engine/canonical_email.h"
#include "engine/clock.h"
#include "engine/engine.h"

namespace attrib::bench {
namespace {

using engine::AffiliateId;
using engine::CanonicalBuffer;
using engine::Engine;
using engine::EngineOptions;
using engine::ShopId;

constexpr uint64_t kSeed = 42;           // Emails of the loaded connections.
constexpr uint64_t kConnectSeed = 4242;  // Emails BM_Connect inserts.
constexpr uint64_t kShops = 10;
constexpr uint64_t kAffiliates = 1000;
constexpr size_t kProbes = 1 << 20;      // Pre-generated emails per probe set.
constexpr int64_t k1M = 1'000'000;
constexpr int64_t k10M = 10'000'000;

// Debian's absl is built without NDEBUG, so absl::Mutex runs its deadlock detector
// on every lock (a global graph under a global spinlock): 26 ns per lock/unlock
// instead of 7. The executables (attrib_demo, and attribd) switch it off at startup;
// the tests keep it on. The benchmarks measure what the executables run:
// ATTRIB_BENCH_DEADLOCK_DETECTION=1 keeps the library default to compare.
const bool kDeadlockDetection = [] {
  const char* env = std::getenv("ATTRIB_BENCH_DEADLOCK_DETECTION");
  const bool on = env != nullptr && *env != '\0' && std::string(env) != "0";
  if (!on) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::AddCustomContext("absl_mutex_deadlock_detection",
                              on ? "library default (on)" : "ignore (as the executables)");
  return on;
}();

uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Connection number i lives in one shop and belongs to one affiliate.
ShopId ShopOf(uint64_t i) { return 1 + i % kShops; }
AffiliateId AffiliateOf(uint64_t i) { return 1 + Mix(i) % kAffiliates; }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void ConnectOrDie(Engine& engine, uint64_t index, uint64_t seed) {
  engine::ConnectRequest req;
  req.shop = ShopOf(index);
  req.email = RealisticEmail(index, seed);
  req.affiliate = AffiliateOf(index);
  const auto result = engine.Connect(req);
  if (!result.ok()) {
    std::fprintf(stderr, "connect %s: %s\n", req.email.c_str(),
                 result.status().ToString().c_str());
    std::abort();
  }
}

std::unique_ptr<Engine> LoadEngine(const EngineOptions& options, int64_t n) {
  auto engine = std::make_unique<Engine>(options);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) ConnectOrDie(*engine, static_cast<uint64_t>(i), kSeed);
  const double s = SecondsSince(start);
  std::fprintf(stderr, "[engine_bench] loaded %lld connections via Engine::Connect in "
               "%.2f s (%.0f connects/s, email generation included)\n",
               static_cast<long long>(n), s, static_cast<double>(n) / s);
  return engine;
}

struct Probe {
  ShopId shop;
  std::string email;
};

struct Loaded {
  std::unique_ptr<Engine> engine;
  std::vector<Probe> hits;               // Existing emails, random shops.
  std::vector<Probe> misses;             // Never inserted.
  std::vector<std::string> shop1_hits;   // Existing emails of shop 1 (batches).
};

// The engine loaded with n connections, built on first use and kept for the run.
const Loaded& GetLoaded(int64_t n) {
  static std::mutex mu;
  static auto* cache = new std::map<int64_t, std::unique_ptr<Loaded>>;
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<Loaded>& slot = (*cache)[n];
  if (slot) return *slot;
  slot = std::make_unique<Loaded>();
  slot->engine = LoadEngine(EngineOptions{}, n);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> any(0, static_cast<uint64_t>(n) - 1);
  std::uniform_int_distribution<uint64_t> shop1(0, static_cast<uint64_t>(n - 1) / kShops);
  slot->hits.reserve(kProbes);
  slot->misses.reserve(kProbes);
  slot->shop1_hits.reserve(kProbes);
  for (size_t j = 0; j < kProbes; ++j) {
    const uint64_t i = any(rng);
    slot->hits.push_back(Probe{ShopOf(i), RealisticEmail(i, kSeed)});
    const uint64_t m = static_cast<uint64_t>(n) + j;  // Distinct index: never stored.
    slot->misses.push_back(Probe{ShopOf(m), RealisticEmail(m, kSeed)});
    const uint64_t s = shop1(rng) * kShops;  // ShopOf(s) == 1.
    slot->shop1_hits.push_back(RealisticEmail(s, kSeed));
  }
  return *slot;
}

void BM_CanonicalizeLookupHit(benchmark::State& state) {
  const Loaded& l = GetLoaded(state.range(0));
  const Engine& engine = *l.engine;
  size_t i = 0;
  for (auto _ : state) {
    const Probe& p = l.hits[i];
    auto result = engine.Lookup(p.shop, p.email);
    if (!result.ok() || !result->found) state.SkipWithError("lookup hit not found");
    benchmark::DoNotOptimize(result);
    if (++i == l.hits.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CanonicalizeLookupHit)->Arg(k1M)->Arg(k10M);

void BM_CanonicalizeLookupMiss(benchmark::State& state) {
  const Loaded& l = GetLoaded(state.range(0));
  const Engine& engine = *l.engine;
  size_t i = 0;
  for (auto _ : state) {
    const Probe& p = l.misses[i];
    auto result = engine.Lookup(p.shop, p.email);
    if (!result.ok() || result->found) state.SkipWithError("lookup miss found");
    benchmark::DoNotOptimize(result);
    if (++i == l.misses.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CanonicalizeLookupMiss)->Arg(k1M)->Arg(k10M);

// The SPEC §9 figure: canonicalize, then read the affiliate in place.
void BM_StoreVisitHit(benchmark::State& state) {
  const Loaded& l = GetLoaded(state.range(0));
  const engine::ConnectionStore& store = l.engine->store();
  const engine::EmailPolicy policy = store.policy();
  // Threads start at different probes so they do not walk the same keys in step.
  size_t i = (l.hits.size() / 2) * static_cast<size_t>(state.thread_index()) %
             l.hits.size();
  CanonicalBuffer buf;
  AffiliateId sum = 0;
  for (auto _ : state) {
    const Probe& p = l.hits[i];
    AffiliateId affiliate = 0;
    if (engine::CanonicalizeInto(p.email, policy, &buf).ok()) {
      store.Visit(p.shop, buf.view(), [&](const engine::Shard& s, engine::record::View v) {
        affiliate = s.AffiliateOf(v);
      });
    }
    sum += affiliate;
    if (++i == l.hits.size()) i = 0;
  }
  benchmark::DoNotOptimize(sum);
  if (sum == 0) state.SkipWithError("no affiliate read");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreVisitHit)->Arg(k1M)->Arg(k10M);
BENCHMARK(BM_StoreVisitHit)->Arg(k1M)->Arg(k10M)->Threads(2)->UseRealTime();

// The store's share of BM_StoreVisitHit: the same probes, canonicalized beforehand.
void BM_StoreVisitPrecanonical(benchmark::State& state) {
  const Loaded& l = GetLoaded(state.range(0));
  const engine::ConnectionStore& store = l.engine->store();
  std::vector<CanonicalBuffer> keys(l.hits.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (!engine::CanonicalizeInto(l.hits[k].email, store.policy(), &keys[k]).ok()) {
      state.SkipWithError("probe does not canonicalize");
      return;
    }
  }
  size_t i = 0;
  AffiliateId sum = 0;
  for (auto _ : state) {
    store.Visit(l.hits[i].shop, keys[i].view(),
                [&](const engine::Shard& s, engine::record::View v) {
                  sum += s.AffiliateOf(v);
                });
    if (++i == keys.size()) i = 0;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreVisitPrecanonical)->Arg(k1M)->Arg(k10M);

// The zero-copy path for 128 keys of one shop: canonicalize each, then
// ConnectionStore::VisitBatch (one lock per shard, bucket prefetches) reading the
// affiliate; what a pipelined server could do per request batch.
void BM_StoreVisitBatch128(benchmark::State& state) {
  constexpr size_t kBatch = 128;
  const Loaded& l = GetLoaded(state.range(0));
  const engine::ConnectionStore& store = l.engine->store();
  const engine::EmailPolicy policy = store.policy();
  std::vector<CanonicalBuffer> bufs(kBatch);
  std::vector<absl::string_view> keys(kBatch);
  size_t i = 0;
  AffiliateId sum = 0;
  for (auto _ : state) {
    size_t k = 0;
    for (size_t j = 0; j < kBatch; ++j) {
      if (engine::CanonicalizeInto(l.shop1_hits[i + j], policy, &bufs[k]).ok()) {
        keys[k] = bufs[k].view();
        ++k;
      }
    }
    store.VisitBatch(/*shop=*/1, absl::MakeConstSpan(keys.data(), k),
                     [&](size_t, const engine::Shard& s, engine::record::View v) {
                       sum += s.AffiliateOf(v);
                     });
    i += kBatch;
    if (i + kBatch > l.shop1_hits.size()) i = 0;
  }
  benchmark::DoNotOptimize(sum);
  if (sum == 0) state.SkipWithError("no affiliate read");
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_StoreVisitBatch128)->Arg(k1M)->Arg(k10M);

void BM_BatchLookup128(benchmark::State& state) {
  constexpr size_t kBatch = 128;
  const Loaded& l = GetLoaded(state.range(0));
  const Engine& engine = *l.engine;
  const std::vector<absl::string_view> views(l.shop1_hits.begin(), l.shop1_hits.end());
  size_t i = 0;
  for (auto _ : state) {
    auto result = engine.LookupBatch(
        /*shop=*/1, absl::Span<const absl::string_view>(views.data() + i, kBatch));
    if (!result.ok() || !(*result)[0].result.found) state.SkipWithError("batch miss");
    benchmark::DoNotOptimize(result);
    i += kBatch;
    if (i + kBatch > l.shop1_hits.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_BatchLookup128)->Arg(k1M)->Arg(k10M);

// Fresh emails into one engine that grows across the runs Google Benchmark makes.
void BM_Connect(benchmark::State& state) {
  static Engine* engine = new Engine(EngineOptions{});
  static uint64_t next = 0;  // Next email index: never connected before.
  constexpr size_t kChunk = 1 << 16;
  std::vector<engine::ConnectRequest> requests;
  size_t r = kChunk;
  for (auto _ : state) {
    if (r == kChunk) {  // Generate emails outside the timed region.
      state.PauseTiming();
      requests.assign(kChunk, engine::ConnectRequest{});
      for (auto& req : requests) {
        req.shop = ShopOf(next);
        req.email = RealisticEmail(next, kConnectSeed);
        req.affiliate = AffiliateOf(next);
        ++next;
      }
      r = 0;
      state.ResumeTiming();
    }
    auto result = engine->Connect(requests[r++]);
    if (!result.ok()) state.SkipWithError("connect failed");
    benchmark::DoNotOptimize(result);
  }
  next -= kChunk - r;  // Unused requests: connect them next time.
  state.SetItemsProcessed(state.iterations());
  state.counters["engine_size"] = static_cast<double>(engine->Stats().connections);
}
BENCHMARK(BM_Connect);

// Orders of connected customers: 1M connections, a fake clock advanced 1 ms per
// order and a 1,000 s order window, so about 1M orders stay remembered once warm
// (eviction included), like a busy platform's window (the default is 120 days).
void BM_Attribute(benchmark::State& state) {
  static engine::FakeClock* clock = new engine::FakeClock(1'700'000'000'000);
  static const Loaded* l = [] {
    auto* loaded = new Loaded;
    EngineOptions options;
    options.clock = clock;
    options.order_window_ms = 1'000'000;
    loaded->engine = LoadEngine(options, k1M);
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<uint64_t> any(0, k1M - 1);
    for (size_t j = 0; j < kProbes; ++j) {
      const uint64_t i = any(rng);
      loaded->hits.push_back(Probe{ShopOf(i), RealisticEmail(i, kSeed)});
    }
    return loaded;
  }();
  static uint64_t next_order = 0;
  Engine& engine = *l->engine;
  engine::AttributeRequest req;
  req.order_id.reserve(24);
  req.email.emplace();
  size_t i = next_order % l->hits.size();
  for (auto _ : state) {
    const Probe& p = l->hits[i];
    req.shop = p.shop;
    req.email->assign(p.email);
    req.order_id = "ord-";
    absl::StrAppend(&req.order_id, next_order++);
    clock->Advance(1);
    auto result = engine.Attribute(req);
    if (!result.ok() || result->duplicate || result->decision.affiliate == 0) {
      state.SkipWithError("attribute did not credit the connection");
    }
    benchmark::DoNotOptimize(result);
    if (++i == l->hits.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["remembered_orders"] =
      static_cast<double>(engine.Stats().remembered_orders);
}
BENCHMARK(BM_Attribute);

// Issue 12: a lookup of a connected customer by external id vs by email, through the
// same call (Engine::LookupCustomer), 1M customers each. Arg 0: customers connected
// by email, looked up by email; arg 1: connected by external id (Shopify-like
// "gid://shopify/Customer/N"), looked up by it.
void BM_LookupCustomer(benchmark::State& state) {
  struct Side {
    std::unique_ptr<Engine> engine;
    std::vector<std::pair<ShopId, engine::CustomerRef>> probes;
  };
  static Side* sides = [] {
    auto* s = new Side[2];
    s[0].engine = LoadEngine(EngineOptions{}, k1M);
    s[1].engine = std::make_unique<Engine>(EngineOptions{});
    for (uint64_t i = 0; i < k1M; ++i) {
      engine::ConnectRequest r;
      r.shop = ShopOf(i);
      r.external_id = absl::StrCat("gid://shopify/Customer/", 7'000'000'000 + i);
      r.affiliate = AffiliateOf(i);
      if (!s[1].engine->Connect(r).ok()) std::abort();
    }
    std::mt19937_64 rng(13);
    std::uniform_int_distribution<uint64_t> any(0, k1M - 1);
    for (size_t j = 0; j < kProbes; ++j) {
      const uint64_t i = any(rng);
      s[0].probes.emplace_back(ShopOf(i), engine::CustomerRef{RealisticEmail(i, kSeed), std::nullopt});
      s[1].probes.emplace_back(
          ShopOf(i),
          engine::CustomerRef{std::nullopt,
                              absl::StrCat("gid://shopify/Customer/", 7'000'000'000 + i)});
    }
    return s;
  }();
  const Side& side = sides[state.range(0)];
  size_t i = 0;
  for (auto _ : state) {
    const auto& [shop, ref] = side.probes[i];
    auto result = side.engine->LookupCustomer(shop, ref);
    if (!result.ok() || !result->found) state.SkipWithError("lookup hit not found");
    benchmark::DoNotOptimize(result);
    if (++i == side.probes.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupCustomer)->Arg(0)->Arg(1);

}  // namespace
}  // namespace attrib::bench
