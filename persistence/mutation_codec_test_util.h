// persistence/mutation_codec_test_util.h
//
// Shared by the mutation codec tests (mutation_codec_test.cc,
// mutation_codec_affiliates_test.cc): encoding to a string and the round-trip check.
//
// Thread-safety: test helpers; one thread.
#ifndef ATTRIB_PERSISTENCE_MUTATION_CODEC_TEST_UTIL_H_
#define ATTRIB_PERSISTENCE_MUTATION_CODEC_TEST_UTIL_H_

#include <string>

#include "gtest/gtest.h"
#include "persistence/mutation_codec.h"

namespace attrib::persistence::codec_testing {

inline std::string Encode(const engine::Mutation& m) {
  std::string out;
  EncodeMutation(m, &out);
  return out;
}

// Decodes what `m` encodes to, and expects `m` back.
inline void ExpectRoundTrip(const engine::Mutation& m) {
  const std::string bytes = Encode(m);
  absl::StatusOr<engine::Mutation> decoded = DecodeMutation(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status() << " for " << ::testing::PrintToString(m);
  EXPECT_EQ(*decoded, m);
}

}  // namespace attrib::persistence::codec_testing

#endif  // ATTRIB_PERSISTENCE_MUTATION_CODEC_TEST_UTIL_H_
