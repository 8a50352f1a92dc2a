// fuzz/canonical_email_fuzz.cc
//
// libFuzzer target for the canonical email (engine/canonical_email.h), both policies:
//  - CanonicalizeInto() never crashes, and a rejection is InvalidArgument "email: ...";
//  - an accepted address is a fixed point: canonical(canonical(x)) == canonical(x);
//  - its canonical form obeys every length rule of SPEC §2 step 3 (whole address,
//    local part, domain, each label) and has exactly one '@';
//  - the SSE fast path (CanonicalizeShortAscii), when it accepts the trimmed input,
//    agrees with the general path (CanonicalizeGeneral), which must accept it too;
//  - Canonicalize() (the owning wrapper) agrees with CanonicalizeInto().
//
// Thread-safety: libFuzzer calls the entry point from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/canonical_email.h"
#include "engine/canonical_email_internal.h"

namespace {

using attrib::engine::CanonicalBuffer;
using attrib::engine::EmailPolicy;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

void CheckLengths(absl::string_view canonical) {
  using namespace attrib::engine;
  Check(canonical.size() <= kMaxEmailBytes);
  const size_t at = canonical.find('@');
  Check(at != absl::string_view::npos && at > 0 && at + 1 < canonical.size());
  Check(canonical.find('@', at + 1) == absl::string_view::npos);
  const absl::string_view local = canonical.substr(0, at);
  const absl::string_view domain = canonical.substr(at + 1);
  Check(local.size() <= kMaxLocalPartBytes);
  Check(domain.size() <= kMaxDomainBytes);
  Check(domain.back() != '.');
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    Check(!label.empty() && label.size() <= kMaxLabelBytes);
    Check(label.front() != '-' && label.back() != '-');
  }
}

void CheckPolicy(absl::string_view input, EmailPolicy policy) {
  using namespace attrib::engine;
  CanonicalBuffer out;
  absl::string_view entered;
  const absl::Status status = CanonicalizeInto(input, policy, &out, &entered);
  const auto owned = Canonicalize(input, policy);
  Check(owned.ok() == status.ok());
  if (!status.ok()) {
    Check(absl::IsInvalidArgument(status));
    Check(absl::StartsWith(status.message(), "email: "));
    return;
  }
  const absl::string_view canonical = out.view();
  Check(owned->canonical == canonical && owned->entered == entered);
  // `entered` is the trimmed input, a view into it.
  Check(entered.data() >= input.data() &&
        entered.data() + entered.size() <= input.data() + input.size());
  Check(!entered.empty() && !IsAsciiSpace(entered.front()) &&
        !IsAsciiSpace(entered.back()));
  CheckLengths(canonical);

  CanonicalBuffer again;
  Check(CanonicalizeInto(canonical, policy, &again).ok());
  Check(again.view() == canonical);

  // Fast path vs general path, on the trimmed input as CanonicalizeInto() passes it.
  CanonicalBuffer fast;
  if (email_internal::CanonicalizeShortAscii(entered.data(), entered.size(), policy,
                                             &fast)) {
    CanonicalBuffer general;
    Check(email_internal::CanonicalizeGeneral(entered.data(), entered.size(), 0, policy,
                                              &general)
              .ok());
    Check(fast.view() == general.view());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  CheckPolicy(input, EmailPolicy::kProvider);
  CheckPolicy(input, EmailPolicy::kStandard);
  // The fast path sees inputs the general path rejects too: it must never accept
  // what the general path rejects.
  for (EmailPolicy policy : {EmailPolicy::kProvider, EmailPolicy::kStandard}) {
    CanonicalBuffer fast;
    CanonicalBuffer general;
    if (attrib::engine::email_internal::CanonicalizeShortAscii(input.data(), input.size(),
                                                               policy, &fast)) {
      Check(attrib::engine::email_internal::CanonicalizeGeneral(
                input.data(), input.size(), 0, policy, &general)
                .ok());
      Check(fast.view() == general.view());
    }
  }
  return 0;
}
