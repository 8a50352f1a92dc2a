// engine/types.cc: names of the engine's enums, and their parsers.
#include "engine/types.h"

#include <array>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace attrib::engine {
namespace {

// Every enum here is a dense range 0..N-1, so a name table indexed by value works
// both ways.
template <typename E, size_t N>
absl::string_view NameOf(const std::array<absl::string_view, N>& names, E value) {
  const size_t i = static_cast<size_t>(value);
  return i < N ? names[i] : absl::string_view("unknown");
}

template <typename E, size_t N>
absl::StatusOr<E> ParseName(const std::array<absl::string_view, N>& names,
                            absl::string_view what, absl::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": '", name, "' is not one of ", absl::StrJoin(names, ", ")));
}

constexpr std::array<absl::string_view, 4> kSourceNames = {"manual", "api", "import",
                                                           "referral"};
constexpr std::array<absl::string_view, 2> kModeNames = {"if_absent", "reassign"};
constexpr std::array<absl::string_view, 2> kValidityNames = {"fixed", "sliding"};
constexpr std::array<absl::string_view, 3> kPrecedenceNames = {
    "connection_first", "referral_first", "referral_takes_over"};
constexpr std::array<absl::string_view, 4> kReasonNames = {"none", "connected",
                                                           "referral", "self_referral"};
constexpr std::array<absl::string_view, 6> kInactiveNames = {
    "active", "expired", "capped", "disabled", "affiliate_disabled",
    "affiliate_not_registered"};
constexpr std::array<absl::string_view, 4> kRefusalNames = {
    "none", "affiliate_disabled", "affiliate_not_registered", "self_referral"};
constexpr std::array<absl::string_view, 2> kAffiliateStatusNames = {"active", "disabled"};
constexpr std::array<absl::string_view, 2> kBecomesAffiliateNames = {"keep", "disconnect"};
constexpr std::array<absl::string_view, 4> kMergeConflictNames = {
    "keep_earliest", "keep_email", "keep_external_id", "refuse"};

}  // namespace

absl::string_view SourceName(Source s) { return NameOf(kSourceNames, s); }
absl::StatusOr<Source> ParseSource(absl::string_view name) {
  return ParseName<Source>(kSourceNames, "source", name);
}
absl::string_view ConnectModeName(ConnectMode m) { return NameOf(kModeNames, m); }
absl::StatusOr<ConnectMode> ParseConnectMode(absl::string_view name) {
  return ParseName<ConnectMode>(kModeNames, "mode", name);
}
absl::string_view ValidityModeName(ValidityMode m) { return NameOf(kValidityNames, m); }
absl::StatusOr<ValidityMode> ParseValidityMode(absl::string_view name) {
  return ParseName<ValidityMode>(kValidityNames, "validity_mode", name);
}
absl::string_view PrecedenceName(Precedence p) { return NameOf(kPrecedenceNames, p); }
absl::StatusOr<Precedence> ParsePrecedence(absl::string_view name) {
  return ParseName<Precedence>(kPrecedenceNames, "precedence", name);
}
absl::string_view ReasonName(Reason r) { return NameOf(kReasonNames, r); }
absl::string_view InactiveReasonName(InactiveReason r) {
  return NameOf(kInactiveNames, r);
}
absl::string_view ReferralRefusalName(ReferralRefusal r) { return NameOf(kRefusalNames, r); }
absl::string_view AffiliateStatusName(AffiliateStatus s) {
  return NameOf(kAffiliateStatusNames, s);
}
absl::StatusOr<AffiliateStatus> ParseAffiliateStatus(absl::string_view name) {
  return ParseName<AffiliateStatus>(kAffiliateStatusNames, "status", name);
}
absl::string_view CustomerBecomesAffiliateName(CustomerBecomesAffiliate c) {
  return NameOf(kBecomesAffiliateNames, c);
}
absl::StatusOr<CustomerBecomesAffiliate> ParseCustomerBecomesAffiliate(absl::string_view name) {
  return ParseName<CustomerBecomesAffiliate>(kBecomesAffiliateNames,
                                             "on_customer_becomes_affiliate", name);
}

absl::string_view MergeConflictRuleName(MergeConflictRule r) {
  return NameOf(kMergeConflictNames, r);
}
absl::StatusOr<MergeConflictRule> ParseMergeConflictRule(absl::string_view name) {
  return ParseName<MergeConflictRule>(kMergeConflictNames, "merge_conflict", name);
}

absl::string_view NewCustomerSourceName(NewCustomerSource s) {
  switch (s) {
    case NewCustomerSource::kRequest: return "request";
    case NewCustomerSource::kDirectory: return "directory";
    case NewCustomerSource::kUnknown: break;
  }
  return "unknown";
}

}  // namespace attrib::engine
