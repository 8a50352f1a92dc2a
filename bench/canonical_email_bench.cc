// bench/canonical_email_bench.cc
//
// Cost of CanonicalizeInto(), the per-lookup canonicalization (SPEC §2): 64k
// realistic addresses under both policies, single addresses on each path (SIMD
// fast path, general path, libidn2, error), and the allocating Canonicalize().
//
// Thread-safety: single-threaded benchmarks.
#include <string>
#include <vector>

#include "bench/email_generator.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/canonical_email.h"

namespace attrib::bench {
namespace {

using engine::CanonicalBuffer;
using engine::EmailPolicy;

// 64k addresses: more than the L1/L2 caches hold, like lookups of real keys.
const std::vector<std::string>& Emails() {
  static const std::vector<std::string>* emails = [] {
    auto* v = new std::vector<std::string>;
    EmailGenerator generator(/*seed=*/1);
    for (int i = 0; i < (1 << 16); ++i) v->push_back(generator.Next());
    return v;
  }();
  return *emails;
}

void BM_CanonicalizeInto(benchmark::State& state) {
  const EmailPolicy policy = static_cast<EmailPolicy>(state.range(0));
  const std::vector<std::string>& emails = Emails();
  size_t bytes = 0;
  for (const std::string& e : emails) bytes += e.size();
  CanonicalBuffer out;
  size_t i = 0;
  for (auto _ : state) {
    absl::Status status = engine::CanonicalizeInto(emails[i], policy, &out);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(out);
    if (++i == emails.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(absl::StrCat("policy=", engine::EmailPolicyName(policy),
                              " avg_bytes=", bytes / emails.size()));
}
BENCHMARK(BM_CanonicalizeInto)
    ->Arg(static_cast<int>(EmailPolicy::kProvider))
    ->Arg(static_cast<int>(EmailPolicy::kStandard));

void BM_CanonicalizeOne(benchmark::State& state, const char* email_literal) {
  const std::string email = email_literal;
  CanonicalBuffer out;
  for (auto _ : state) {
    absl::Status status = engine::CanonicalizeInto(email, EmailPolicy::kProvider, &out);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
// The SPEC §2 example: fast path, gmail rules.
BENCHMARK_CAPTURE(BM_CanonicalizeOne, spec_example, " Jane.Doe+promo@GoogleMail.com ");
// ASCII but outside the fast path's alphabet (the apostrophe): the general path.
BENCHMARK_CAPTURE(BM_CanonicalizeOne, general_path_ascii, "O'Brien.Jane+shop@Example.co.uk");
// An internationalized domain: libidn2.
BENCHMARK_CAPTURE(BM_CanonicalizeOne, idn, "J\xC3\xBCrgen.M\xC3\xBCller@B\xC3\xBC" "cher.de");
// Rejected: the error path builds a message.
BENCHMARK_CAPTURE(BM_CanonicalizeOne, invalid, "jane.doe@-example.com");

void BM_CanonicalizeAllocating(benchmark::State& state) {
  const std::vector<std::string>& emails = Emails();
  size_t i = 0;
  for (auto _ : state) {
    auto result = engine::Canonicalize(emails[i], EmailPolicy::kProvider);
    benchmark::DoNotOptimize(result);
    if (++i == emails.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CanonicalizeAllocating);

}  // namespace
}  // namespace attrib::bench
