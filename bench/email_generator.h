// bench/email_generator.h
//
// Deterministic, realistic-looking customer emails for benchmarks and the memory
// report: mixed-case first/last names, dots, digits, ~15% +tags, and ~50 domains
// weighted like a web shop's customers (gmail ~25%, googlemail ~3%, outlook,
// hotmail, yahoo, icloud, ..., company domains). Every address is 15-40 bytes.
//
// RealisticEmail(index, seed) is a pure function, so a benchmark can re-derive any
// key for lookups instead of storing millions of strings. Its local part ends in
// the decimal digits of `index` (before any +tag), and the name part never holds
// a digit, so distinct indices always give distinct canonical emails under either
// policy (gmail dot and tag removal keep the digits).
//
// Thread-safety: RealisticEmail() is pure and may be called from any thread. An
// EmailGenerator is a cursor: one thread at a time.
#ifndef ATTRIB_BENCH_EMAIL_GENERATOR_H_
#define ATTRIB_BENCH_EMAIL_GENERATOR_H_

#include <cstdint>
#include <string>

namespace attrib::bench {

// The email number `index` of the sequence named by `seed`.
std::string RealisticEmail(uint64_t index, uint64_t seed);

// RealisticEmail(0, seed), RealisticEmail(1, seed), ...
class EmailGenerator {
 public:
  explicit EmailGenerator(uint64_t seed) : seed_(seed) {}

  std::string Next() { return RealisticEmail(next_index_++, seed_); }

 private:
  const uint64_t seed_;
  uint64_t next_index_ = 0;
};

}  // namespace attrib::bench

#endif  // ATTRIB_BENCH_EMAIL_GENERATOR_H_
