// bench/email_generator.cc
//
// See email_generator.h. Randomness is splitmix64 (stable across platforms and
// library versions, unlike std::hash or absl::Hash), seeded per address from
// (seed, index), so addresses never depend on generation order.
//
// Thread-safety: stateless apart from immutable tables built on first use.
#include "bench/email_generator.h"

#include <array>
#include <cstddef>
#include <string_view>

namespace attrib::bench {
namespace {

uint64_t Mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A splitmix64 stream for one address. Mixing twice keeps adjacent indices from
// sharing shifted streams.
class Rng {
 public:
  Rng(uint64_t index, uint64_t seed) : state_(Mix64(Mix64(seed) ^ index)) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ull;
    return Mix64(state_);
  }
  // Uniform enough in [0, n) for n far below 2^32.
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

constexpr std::string_view kFirstNames[] = {
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda",
    "david", "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica",
    "thomas", "sarah", "chris", "karen", "daniel", "lisa", "matthew", "nancy",
    "anthony", "sandra", "mark", "ashley", "paul", "emily", "lukas", "anna",
    "leon", "sophie", "pierre", "camille", "marco", "giulia", "ana", "ivan",
    "yuki", "wei", "priya", "omar", "fatima", "noah", "emma", "liam"};

constexpr std::string_view kLastNames[] = {
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
    "rodriguez", "martinez", "wilson", "anderson", "taylor", "thomas", "moore", "jackson",
    "martin", "lee", "thompson", "white", "harris", "clark", "lewis", "walker",
    "young", "allen", "king", "wright", "scott", "green", "mueller", "schmidt",
    "schneider", "fischer", "dubois", "moreau", "rossi", "russo", "silva", "santos",
    "ivanov", "tanaka", "wang", "kumar", "khan", "novak", "kowalski", "nielsen"};

constexpr std::string_view kTags[] = {"shop", "news", "promo", "orders", "amazon",
                                      "deals", "spam", "store", "2fa", "list"};

struct WeightedDomain {
  std::string_view name;  // At most 18 bytes: see the length guarantee below.
  uint32_t weight;        // Per mille.
};

constexpr WeightedDomain kDomains[] = {
    {"gmail.com", 250},      {"googlemail.com", 30},   {"yahoo.com", 70},
    {"outlook.com", 60},     {"hotmail.com", 60},      {"icloud.com", 40},
    {"live.com", 20},        {"me.com", 10},           {"aol.com", 15},
    {"msn.com", 10},         {"gmx.de", 20},           {"web.de", 20},
    {"t-online.de", 10},     {"yahoo.co.uk", 10},      {"hotmail.co.uk", 10},
    {"btinternet.com", 5},   {"sky.com", 5},           {"orange.fr", 10},
    {"free.fr", 8},          {"laposte.net", 5},       {"libero.it", 6},
    {"comcast.net", 15},     {"verizon.net", 8},       {"att.net", 8},
    {"protonmail.com", 8},   {"proton.me", 5},         {"fastmail.com", 5},
    {"zoho.com", 4},         {"hey.com", 2},           {"mail.ru", 10},
    {"yandex.ru", 8},        {"qq.com", 10},           {"163.com", 6},
    {"naver.com", 5},        {"shaw.ca", 4},           {"rogers.com", 4},
    {"bigpond.com", 4},      {"optusnet.com.au", 3},   {"acme-corp.com", 20},
    {"globex.com", 20},      {"initech.com", 20},      {"hooli.io", 20},
    {"contoso.com", 20},     {"fabrikam.net", 20},     {"northwind.co", 20},
    {"umbrella-corp.com", 20}, {"tyrell.ai", 15},      {"cyberdyne.io", 15},
    {"example.org", 7},     {"piedpiper.com", 20}};

constexpr uint32_t kTotalWeight = [] {
  uint32_t total = 0;
  for (const WeightedDomain& d : kDomains) total += d.weight;
  return total;
}();
static_assert(kTotalWeight == 1000, "domain weights are per mille");

std::string_view PickDomain(Rng& rng) {
  uint32_t r = static_cast<uint32_t>(rng.Below(kTotalWeight));
  for (const WeightedDomain& d : kDomains) {
    if (r < d.weight) return d.name;
    r -= d.weight;
  }
  return kDomains[0].name;
}

template <size_t N>
std::string_view Pick(Rng& rng, const std::string_view (&list)[N]) {
  return list[rng.Below(N)];
}

enum class Case { kLower, kCapitalized, kUpper };

void AppendName(std::string* out, std::string_view name, Case c) {
  const size_t start = out->size();
  out->append(name);
  if (c == Case::kUpper) {
    for (size_t i = start; i < out->size(); ++i) (*out)[i] -= 'a' - 'A';
  } else if (c == Case::kCapitalized) {
    (*out)[start] -= 'a' - 'A';
  }
}

// The name part: letters and separators only, never a digit, ends in a letter.
std::string NamePart(Rng& rng, std::string_view first, std::string_view last, Case c,
                     uint64_t style) {
  std::string name;
  if (style < 25) {  // jane.doe
    AppendName(&name, first, c), name += '.', AppendName(&name, last, c);
  } else if (style < 40) {  // janedoe
    AppendName(&name, first, c), AppendName(&name, last, c);
  } else if (style < 50) {  // j.doe
    AppendName(&name, first.substr(0, 1), c), name += '.', AppendName(&name, last, c);
  } else if (style < 58) {  // jane_doe
    AppendName(&name, first, c), name += '_', AppendName(&name, last, c);
  } else if (style < 70) {  // jane
    AppendName(&name, first, c);
  } else if (style < 78) {  // doe.jane
    AppendName(&name, last, c), name += '.', AppendName(&name, first, c);
  } else if (style < 90) {  // jdoe
    AppendName(&name, first.substr(0, 1), c), AppendName(&name, last, c);
  } else {  // jane-doe
    AppendName(&name, first, c), name += '-', AppendName(&name, last, c);
  }
  return name;
}

}  // namespace

std::string RealisticEmail(uint64_t index, uint64_t seed) {
  constexpr size_t kMinBytes = 15;
  constexpr size_t kMaxBytes = 40;
  Rng rng(index, seed);
  const std::string_view first = Pick(rng, kFirstNames);
  const std::string_view last = Pick(rng, kLastNames);
  const uint64_t case_roll = rng.Below(100);
  const Case c = case_roll < 60 ? Case::kLower
                 : case_roll < 92 ? Case::kCapitalized
                                  : Case::kUpper;
  std::string name = NamePart(rng, first, last, c, rng.Below(100));
  // The uniqueness component: survives canonicalization (see the header).
  const std::string digits = std::to_string(index);
  std::string tag;
  if (rng.Below(100) < 15) tag = "+" + std::string(Pick(rng, kTags));
  const std::string_view domain = PickDomain(rng);

  auto size = [&] { return name.size() + digits.size() + tag.size() + 1 + domain.size(); };
  if (size() < kMinBytes) name = NamePart(rng, first, last, c, /*style=*/0);
  if (size() < kMinBytes) tag = "+shop";  // Shortest case: "ann.lee0+shop@me.com".
  if (size() > kMaxBytes) tag.clear();
  if (size() > kMaxBytes) {
    // Initial + surname, cut to fit; at least the initial stays, and with at most
    // 20 digits and an 18-byte domain that is 40 bytes.
    name = NamePart(rng, first, last, c, /*style=*/80);
    const size_t excess = size() - kMaxBytes;
    if (excess > 0 && excess < name.size()) name.resize(name.size() - excess);
    if (size() > kMaxBytes) name.resize(1);
  }
  std::string email;
  email.reserve(size());
  email.append(name).append(digits).append(tag).append(1, '@').append(domain);
  return email;
}

}  // namespace attrib::bench
