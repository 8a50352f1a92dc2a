// fuzz/mutation_codec_fuzz.cc
//
// A libFuzzer target for DecodeMutation(), the one parser of log payloads: any
// input must decode or fail with DataLoss (never crash, hang or over-allocate), and
// whatever decodes must survive Encode -> Decode unchanged.
//
// Built with -DATTRIB_FUZZ=ON (fuzz/CMakeLists.txt); run with tools/fuzz.sh
// mutation_codec_fuzz SECONDS. log_reader_fuzz makes the same checks on payloads
// that come through a segment.
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
