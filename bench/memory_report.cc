// bench/memory_report.cc
//
// Memory per connection (SPEC §9: <= 64 bytes RSS per connection at 10M): loads
// --connections realistic emails (bench/email_generator.h) through Engine::Connect
// into an Engine with EngineOptions defaults (256 shards, provider policy), spread
// over --shops shops and --affiliates affiliates, and prints
//   - process RSS (VmRSS of /proc/self/status) before and after loading, each after
//     malloc_trim(0), and (after - before) / connections;
//   - the engine's own accounting (Engine::Stats().memory) per connection: hash
//     table, arena chunks, live record bytes, garbage, the list index;
//   - the average length of the emails as entered;
//   - with --orders, the RSS per remembered order; with --registered_affiliates, the
//     RSS per affiliate directory record (issue 12).
// Human-readable lines, or with --json one JSON object on stdout.
//
// Thread-safety: single-threaded program.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_format.h"
#include "bench/email_generator.h"
#include "engine/engine.h"

ABSL_FLAG(int64_t, connections, 1'000'000, "Connections to load.");
ABSL_FLAG(int64_t, shops, 10, "Shops the connections are spread over.");
ABSL_FLAG(int64_t, affiliates, 1000, "Affiliates the connections are spread over.");
ABSL_FLAG(uint64_t, seed, 42, "Seed of the realistic email sequence.");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of text lines.");
ABSL_FLAG(int64_t, orders, 0,
          "After loading, attribute this many orders (unique ids, to loaded customers) "
          "and report the RSS per remembered order (the order window's cost; all stay "
          "inside the default 120-day window).");
ABSL_FLAG(int64_t, registered_affiliates, 0,
          "After loading (and the orders), put this many affiliates in the affiliate "
          "directory (a 12-byte name and --affiliate_emails emails each, spread over the "
          "shops) and report the RSS per affiliate record.");
ABSL_FLAG(int64_t, affiliate_emails, 1, "Emails of each registered affiliate (0-8).");
ABSL_FLAG(int64_t, extra_identifiers, 0,
          "After the connections: link this many extra identifiers (an external id "
          "like a shop platform's customer id) to the first customers, one each, and "
          "report the RSS per extra identifier (issue 12).");

ABSL_FLAG(int64_t, directory_customers, 0,
          "After the rest: put this many more customers (emails not among the "
          "connections') into the customer directory without a connection, named "
          "\"Customer N\" like the connections, and report the RSS per directory "
          "customer (issue 12; target <= 48 bytes).");

ABSL_FLAG(bool, directory_names, true,
          "--directory_customers: give each a name (\"Customer N\"); false: none.");

namespace attrib::bench {
namespace {

// The value in bytes of the "<field>: N kB" line of a /proc file, 0 if absent.
size_t ProcKbField(const char* file, const char* field) {
  std::ifstream status(file);
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) != 0) continue;
    size_t kb = 0;
    for (char c : line) {
      if (c >= '0' && c <= '9') kb = kb * 10 + static_cast<size_t>(c - '0');
    }
    return kb * 1024;
  }
  return 0;
}

// Resident set size in bytes.
size_t RssBytes() { return ProcKbField("/proc/self/status", "VmRSS:"); }
// Resident bytes in transparent huge pages (e.g. GLIBC_TUNABLES=glibc.malloc.hugetlb=1).
size_t AnonHugeBytes() { return ProcKbField("/proc/self/smaps_rollup", "AnonHugePages:"); }

size_t TrimmedRss() {
  malloc_trim(0);
  return RssBytes();
}

uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int Run() {
  const int64_t n = absl::GetFlag(FLAGS_connections);
  const int64_t shops = absl::GetFlag(FLAGS_shops);
  const int64_t affiliates = absl::GetFlag(FLAGS_affiliates);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (n <= 0 || shops <= 0 || affiliates <= 0) {
    std::fprintf(stderr, "--connections, --shops and --affiliates must be > 0\n");
    return 2;
  }

  const size_t rss_start = TrimmedRss();
  engine::Engine engine{engine::EngineOptions{}};
  const size_t rss_before = TrimmedRss();  // The empty engine is counted as "before".

  const auto start = std::chrono::steady_clock::now();
  uint64_t entered_bytes = 0;
  engine::ConnectRequest req;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t u = static_cast<uint64_t>(i);
    req.shop = 1 + u % static_cast<uint64_t>(shops);
    req.email = RealisticEmail(u, seed);
    req.affiliate = 1 + Mix(u) % static_cast<uint64_t>(affiliates);
    entered_bytes += req.email.size();
    const auto result = engine.Connect(req);
    if (!result.ok() || result->outcome != engine::ConnectResult::Outcome::kCreated) {
      std::fprintf(stderr, "connect %s: %s\n", req.email.c_str(),
                   result.ok() ? "not created (duplicate canonical email?)"
                               : result.status().ToString().c_str());
      return 1;
    }
  }
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  req = engine::ConnectRequest{};
  // The list index as a server holds it (attribd sorts it after recovery; a load
  // leaves it pending): RSS "after" includes the sorted index.
  const auto sort_start = std::chrono::steady_clock::now();
  engine.store().RefreshListOrders();
  const double list_sort_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sort_start).count();
  const size_t rss_after = TrimmedRss();
  const size_t huge_after = AnonHugeBytes();

  // The order window: unique order ids, all inside the window.
  const int64_t orders = absl::GetFlag(FLAGS_orders);
  double rss_per_order = 0;
  double accounted_per_order = 0;  // The order window's own accounting.
  if (orders > 0) {
    engine::AttributeRequest order;
    for (int64_t i = 0; i < orders; ++i) {
      const uint64_t u = Mix(static_cast<uint64_t>(i)) % static_cast<uint64_t>(n);
      order.shop = 1 + u % static_cast<uint64_t>(shops);
      order.order_id = absl::StrFormat("%d", 4'000'000'000'000LL + i);  // Shopify-like.
      order.email = RealisticEmail(u, seed);
      if (!engine.Attribute(order).ok()) {
        std::fprintf(stderr, "attribute %s failed\n", order.order_id.c_str());
        return 1;
      }
    }
    rss_per_order = (static_cast<double>(TrimmedRss()) - static_cast<double>(rss_after)) /
                    static_cast<double>(orders);
    accounted_per_order =
        static_cast<double>(engine.orders().MemoryBytes()) / static_cast<double>(orders);
  }

  // The affiliate directory: records with a name and emails, after the connections.
  const int64_t registered = absl::GetFlag(FLAGS_registered_affiliates);
  double rss_per_affiliate = 0;
  if (registered > 0) {
    const size_t rss_before_directory = TrimmedRss();
    engine::PutAffiliateRequest put;
    for (int64_t i = 0; i < registered; ++i) {
      put.shop = 1 + static_cast<uint64_t>(i) % static_cast<uint64_t>(shops);
      put.id = 1'000'000 + static_cast<uint64_t>(i);
      put.name = absl::StrFormat("Affiliate %03d", i % 1000);  // 13 bytes.
      put.emails.clear();
      for (int64_t e = 0; e < absl::GetFlag(FLAGS_affiliate_emails); ++e) {
        put.emails.push_back(absl::StrFormat("partner%d.%d@example.com", i, e));
      }
      if (!engine.PutAffiliate(put).ok()) {
        std::fprintf(stderr, "affiliate put %llu failed\n",
                     static_cast<unsigned long long>(put.id));
        return 1;
      }
    }
    rss_per_affiliate = (static_cast<double>(TrimmedRss()) -
                         static_cast<double>(rss_before_directory)) /
                        static_cast<double>(registered);
  }

  // Customer identifiers: one external id linked to each of the first customers.
  const int64_t extra = std::min<int64_t>(absl::GetFlag(FLAGS_extra_identifiers), n);
  if (extra > 0) {
    const size_t rss_before_ids = TrimmedRss();
    for (int64_t i = 0; i < extra; ++i) {
      const uint64_t u = static_cast<uint64_t>(i);
      const engine::ShopId shop = 1 + u % static_cast<uint64_t>(shops);
      const engine::CustomerRef customer{RealisticEmail(u, seed), std::nullopt};
      const engine::CustomerRef id{std::nullopt, absl::StrFormat("gid://shop/Customer/%d",
                                                                 7'000'000'000LL + i)};
      (void)engine.LinkIdentifier(shop, customer, id);  // A repeated email: skipped.
    }
    const double per = (static_cast<double>(TrimmedRss()) - static_cast<double>(rss_before_ids)) /
                       static_cast<double>(extra);
    std::printf("RSS per extra identifier %7.1f bytes   (%lld linked external ids, %zu index "
                "entries)\n",
                per, static_cast<long long>(extra), engine.identity().Memory().entries);
  }

  // The customer directory: customers seen without a connection.
  const int64_t directory = absl::GetFlag(FLAGS_directory_customers);
  if (directory > 0) {
    const size_t rss_before_directory = TrimmedRss();
    int64_t failed = 0;
    for (int64_t i = 0; i < directory; ++i) {
      const uint64_t u = static_cast<uint64_t>(n + i);
      const engine::ShopId shop = 1 + u % static_cast<uint64_t>(shops);
      const engine::CustomerRef customer{RealisticEmail(u, seed), std::nullopt};
      const std::string name =
          absl::GetFlag(FLAGS_directory_names) ? absl::StrFormat("Customer %d", u) : "";
      if (!engine.PutCustomerName(shop, customer, name).ok()) {
        ++failed;  // A repeated email of the sequence: already there.
      }
    }
    const engine::DirectoryMemory dm = engine.customers().Memory();
    const double per = (static_cast<double>(TrimmedRss()) -
                        static_cast<double>(rss_before_directory)) /
                       static_cast<double>(directory - failed);
    std::printf("RSS per directory customer %6.1f bytes   (%lld without a connection; "
                "directory accounting %.1f bytes each; target <= 48)\n",
                per, static_cast<long long>(directory - failed),
                static_cast<double>(dm.bytes) / static_cast<double>(directory - failed));
  }

  const engine::EngineStats stats = engine.Stats();
  const engine::StoreMemory& m = stats.memory;
  const double dn = static_cast<double>(n);
  const double rss_per = (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / dn;
  const double table_per = static_cast<double>(m.table_bytes) / dn;
  const double arena_per = static_cast<double>(m.arena_bytes) / dn;
  const double live_per = static_cast<double>(m.live_record_bytes) / dn;
  const double garbage_per = static_cast<double>(m.garbage_bytes) / dn;
  const double list_per = static_cast<double>(m.list_index_bytes) / dn;
  const double accounted_per = table_per + arena_per + list_per;
  const double entered_avg = static_cast<double>(entered_bytes) / dn;

  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "%s\n",
        absl::StrFormat(
            "{\"connections\":%d,\"stored\":%d,\"shops\":%d,\"affiliates\":%d,"
            "\"seed\":%d,\"shards\":256,\"policy\":\"%s\",\"load_seconds\":%.3f,"
            "\"connects_per_second\":%.0f,\"rss_start_bytes\":%d,"
            "\"rss_before_bytes\":%d,\"rss_after_bytes\":%d,"
            "\"rss_per_connection\":%.2f,\"table_bytes\":%d,\"arena_bytes\":%d,"
            "\"live_record_bytes\":%d,\"garbage_bytes\":%d,"
            "\"table_per_connection\":%.2f,\"arena_per_connection\":%.2f,"
            "\"live_record_per_connection\":%.2f,\"garbage_per_connection\":%.2f,"
            "\"accounted_per_connection\":%.2f,\"avg_entered_email_bytes\":%.2f,"
            "\"anon_huge_pages_bytes\":%d,\"owner_table_bytes\":%d,"
            "\"list_index_bytes\":%d,\"list_index_per_connection\":%.2f,"
            "\"list_sort_seconds\":%.3f,"
            "\"orders\":%d,\"rss_per_remembered_order\":%.1f,"
            "\"accounted_per_remembered_order\":%.1f,"
            "\"registered_affiliates\":%d,\"rss_per_affiliate\":%.1f}",
            n, stats.connections, shops, affiliates, seed,
            engine::EmailPolicyName(engine.email_policy()), load_s, dn / load_s,
            rss_start, rss_before, rss_after, rss_per, m.table_bytes, m.arena_bytes,
            m.live_record_bytes, m.garbage_bytes, table_per, arena_per, live_per,
            garbage_per, accounted_per, entered_avg, huge_after, m.owner_table_bytes,
            m.list_index_bytes, list_per, list_sort_s, orders, rss_per_order,
            accounted_per_order, registered, rss_per_affiliate)
            .c_str());
    return 0;
  }
  const auto mib = [](size_t b) { return static_cast<double>(b) / (1 << 20); };
  std::printf("connections           %lld loaded (%zu stored), %lld shops, %lld affiliates, "
              "seed %llu, 256 shards, policy %s\n",
              static_cast<long long>(n), stats.connections, static_cast<long long>(shops),
              static_cast<long long>(affiliates), static_cast<unsigned long long>(seed),
              std::string(engine::EmailPolicyName(engine.email_policy())).c_str());
  std::printf("load                  %.2f s via Engine::Connect (%.0f connects/s, "
              "email generation included)\n", load_s, dn / load_s);
  std::printf("RSS start             %10.1f MiB\n", mib(rss_start));
  std::printf("RSS before (empty engine) %6.1f MiB\n", mib(rss_before));
  std::printf("RSS after             %10.1f MiB\n", mib(rss_after));
  std::printf("  of which THP       %10.1f MiB\n", mib(huge_after));
  std::printf("RSS per connection    %10.2f bytes   (target <= 64 at 10M)\n", rss_per);
  std::printf("engine accounting per connection:\n");
  std::printf("  table               %10.2f bytes   (%.1f MiB)\n", table_per, mib(m.table_bytes));
  std::printf("  arena (chunks)      %10.2f bytes   (%.1f MiB)\n", arena_per, mib(m.arena_bytes));
  std::printf("    live records      %10.2f bytes   (%.1f MiB)\n", live_per,
              mib(m.live_record_bytes));
  std::printf("    garbage           %10.2f bytes\n", garbage_per);
  std::printf("    chunk slack       %10.2f bytes\n", arena_per - live_per - garbage_per);
  std::printf("  list index          %10.2f bytes   (%.1f MiB; sorted in %.2f s after the "
              "load)\n", list_per, mib(m.list_index_bytes), list_sort_s);
  std::printf("  table + arena + list index %3.2f bytes (RSS not accounted: %.2f)\n",
              accounted_per, rss_per - accounted_per);
  std::printf("  (shop, affiliate) table %6.1f MiB for the whole store\n",
              mib(m.owner_table_bytes));
  std::printf("average entered email %10.2f bytes   (record = 22-byte header + entered "
              "[+ canonical/name when stored])\n", entered_avg);
  if (orders > 0) {
    std::printf("remembered orders     %lld (%zu in the window): %.1f bytes RSS each "
                "(target <= 64 at 10M; order window accounting %.1f)\n",
                static_cast<long long>(orders), stats.remembered_orders, rss_per_order,
                accounted_per_order);
  }
  if (registered > 0) {
    std::printf("affiliate records     %lld (%lld emails each): %.1f bytes RSS each\n",
                static_cast<long long>(registered),
                static_cast<long long>(absl::GetFlag(FLAGS_affiliate_emails)), rss_per_affiliate);
  }
  return 0;
}

}  // namespace
}  // namespace attrib::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // As the servers.
  return attrib::bench::Run();
}
