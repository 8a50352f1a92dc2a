// persistence/mutation_codec_fuzz.cc
//
// A libFuzzer target for DecodeMutation(), the one parser of log payloads: any
// input must decode or fail with DataLoss (never crash, hang or over-allocate), and
// whatever decodes must survive Encode -> Decode unchanged.
//
// Not part of the default build. A later fuzzing option (e.g. -DATTRIB_FUZZ=ON,
// requiring clang) will build it roughly as:
//   add_executable(mutation_codec_fuzz mutation_codec_fuzz.cc)
//   target_compile_options(mutation_codec_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
//   target_link_options(mutation_codec_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
//   target_link_libraries(mutation_codec_fuzz PRIVATE attrib_persistence)
// (attrib_persistence itself compiled with -fsanitize=fuzzer-no-link,address), and
// run as: ./mutation_codec_fuzz -max_len=4096 corpus/
//
// Thread-safety: libFuzzer calls the entry point from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persistence/mutation_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using attrib::engine::Mutation;
  using attrib::persistence::DecodeMutation;
  using attrib::persistence::EncodeMutation;

  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Mutation> decoded = DecodeMutation(input);
  if (!decoded.ok()) {
    if (!absl::IsDataLoss(decoded.status())) std::abort();  // Only DataLoss is allowed.
    return 0;
  }
  (void)attrib::persistence::DescribeMutation(*decoded);
  std::string encoded;
  EncodeMutation(*decoded, &encoded);
  absl::StatusOr<Mutation> again = DecodeMutation(encoded);
  if (!again.ok() || !(*again == *decoded)) std::abort();
  // A decoded mutation re-encodes to at most its input (varints may be non-minimal
  // in the input, never longer in the output).
  if (encoded.size() > size) std::abort();
  return 0;
}
