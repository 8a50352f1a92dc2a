// net/handler_convert.cc: engine <-> wire conversions (see handler_convert.h), and
// the absl::StatusCode <-> wire::ErrorCode mapping declared in handler.h.
//
// Thread-safety: pure functions.
#include "net/handler_convert.h"
#include "net/wire_codes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/not_primary.h"
#include "net/handler.h"

namespace attrib::net {
namespace {

template <typename E>
constexpr auto U(E e) {
  return static_cast<std::underlying_type_t<E>>(e);
}

// Engine and wire enums share their numeric values; a renumbering on either side
// breaks the build here instead of silently mislabelling data.
#define ATTRIB_SAME_VALUE(engine_value, wire_value) \
  static_assert(U(engine_value) == U(wire_value), #engine_value " != " #wire_value)

ATTRIB_SAME_VALUE(engine::Source::kManual, wire::Source::MANUAL);
ATTRIB_SAME_VALUE(engine::Source::kApi, wire::Source::API);
ATTRIB_SAME_VALUE(engine::Source::kImport, wire::Source::IMPORT);
ATTRIB_SAME_VALUE(engine::Source::kReferral, wire::Source::REFERRAL);
ATTRIB_SAME_VALUE(engine::ConnectMode::kIfAbsent, wire::ConnectMode::IF_ABSENT);
ATTRIB_SAME_VALUE(engine::ConnectMode::kReassign, wire::ConnectMode::REASSIGN);
ATTRIB_SAME_VALUE(engine::ValidityMode::kFixed, wire::ValidityMode::FIXED);
ATTRIB_SAME_VALUE(engine::ValidityMode::kSliding, wire::ValidityMode::SLIDING);
ATTRIB_SAME_VALUE(engine::Precedence::kConnectionFirst, wire::Precedence::CONNECTION_FIRST);
ATTRIB_SAME_VALUE(engine::Precedence::kReferralFirst, wire::Precedence::REFERRAL_FIRST);
ATTRIB_SAME_VALUE(engine::Precedence::kReferralTakesOver,
                  wire::Precedence::REFERRAL_TAKES_OVER);
ATTRIB_SAME_VALUE(engine::Reason::kNone, wire::Reason::NONE);
ATTRIB_SAME_VALUE(engine::Reason::kConnected, wire::Reason::CONNECTED);
ATTRIB_SAME_VALUE(engine::Reason::kReferral, wire::Reason::REFERRAL);
ATTRIB_SAME_VALUE(engine::InactiveReason::kActive, wire::Activity::ACTIVE);
ATTRIB_SAME_VALUE(engine::InactiveReason::kExpired, wire::Activity::EXPIRED);
ATTRIB_SAME_VALUE(engine::InactiveReason::kCapped, wire::Activity::CAPPED);
ATTRIB_SAME_VALUE(engine::InactiveReason::kDisabled, wire::Activity::DISABLED);
ATTRIB_SAME_VALUE(engine::InactiveReason::kAffiliateDisabled, wire::Activity::AFFILIATE_DISABLED);
ATTRIB_SAME_VALUE(engine::InactiveReason::kAffiliateNotRegistered,
                  wire::Activity::AFFILIATE_NOT_REGISTERED);
ATTRIB_SAME_VALUE(engine::Reason::kSelfReferral, wire::Reason::SELF_REFERRAL);
ATTRIB_SAME_VALUE(engine::ReferralRefusal::kSelfReferral, wire::ReferralRefusal::SELF_REFERRAL);
ATTRIB_SAME_VALUE(engine::ReferralRefusal::kAffiliateNotRegistered,
                  wire::ReferralRefusal::AFFILIATE_NOT_REGISTERED);
ATTRIB_SAME_VALUE(engine::AffiliateStatus::kDisabled, wire::AffiliateStatus::DISABLED);
ATTRIB_SAME_VALUE(engine::CustomerBecomesAffiliate::kDisconnect,
                  wire::CustomerBecomesAffiliate::DISCONNECT);
ATTRIB_SAME_VALUE(engine::ConnectResult::Outcome::kCreated,
                  wire::ConnectResult::Outcome::CREATED);
ATTRIB_SAME_VALUE(engine::ConnectResult::Outcome::kUnchanged,
                  wire::ConnectResult::Outcome::UNCHANGED);
ATTRIB_SAME_VALUE(engine::ConnectResult::Outcome::kReplaced,
                  wire::ConnectResult::Outcome::REPLACED);

// ErrorCode mirrors absl::StatusCode one to one.

#undef ATTRIB_SAME_VALUE


// Wire -> engine for an enum whose values are 0..last on both sides.
template <typename EngineEnum, typename WireEnum>
absl::StatusOr<EngineEnum> CheckedEnum(WireEnum v, EngineEnum last, absl::string_view field) {
  if (U(v) > U(last)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown value ", U(v), " (this server knows 0..", U(last), ")"));
  }
  return static_cast<EngineEnum>(U(v));
}

absl::Status UnknownUnionMember(absl::string_view field, uint16_t which) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown union member ", which, " (a newer client?)"));
}

}  // namespace


wire::ErrorCode SetError(const absl::Status& status, wire::Error::Builder out) {
  const std::optional<PrimaryAddresses> not_primary = GetNotPrimary(status);
  const wire::ErrorCode code =
      not_primary.has_value() ? wire::ErrorCode::NOT_PRIMARY : ToWireCode(status.code());
  out.setCode(code);
  CopyText(status.message(), out.initMessage(status.message().size()));
  if (not_primary.has_value()) {
    CopyText(not_primary->native, out.initPrimary(not_primary->native.size()));
  }
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    if (const auto payload =
            status.GetPayload(engine::kCurrentAffiliatePayload)) {
      uint64_t affiliate = 0;
      if (absl::SimpleAtoi(std::string(*payload), &affiliate)) {
        out.setCurrentAffiliate(affiliate);
      }
    }
  }
  return code;
}

// ------------------------------------------------------------------ Enums

wire::Source ToWire(engine::Source v) { return static_cast<wire::Source>(U(v)); }
wire::ValidityMode ToWire(engine::ValidityMode v) {
  return static_cast<wire::ValidityMode>(U(v));
}
wire::Precedence ToWire(engine::Precedence v) { return static_cast<wire::Precedence>(U(v)); }
wire::Reason ToWire(engine::Reason v) { return static_cast<wire::Reason>(U(v)); }
wire::Activity ToWire(engine::InactiveReason v) { return static_cast<wire::Activity>(U(v)); }
wire::ConnectResult::Outcome ToWire(engine::ConnectResult::Outcome v) {
  return static_cast<wire::ConnectResult::Outcome>(U(v));
}

absl::StatusOr<engine::Source> FromWire(wire::Source v, absl::string_view field) {
  return CheckedEnum(v, engine::Source::kReferral, field);
}
absl::StatusOr<engine::ConnectMode> FromWire(wire::ConnectMode v, absl::string_view field) {
  return CheckedEnum(v, engine::ConnectMode::kReassign, field);
}
absl::StatusOr<engine::ValidityMode> FromWire(wire::ValidityMode v, absl::string_view field) {
  return CheckedEnum(v, engine::ValidityMode::kSliding, field);
}
absl::StatusOr<engine::Precedence> FromWire(wire::Precedence v, absl::string_view field) {
  return CheckedEnum(v, engine::Precedence::kReferralTakesOver, field);
}
absl::StatusOr<std::optional<bool>> FromWire(wire::Tristate v, absl::string_view field) {
  switch (v) {
    case wire::Tristate::UNKNOWN: return std::optional<bool>();
    case wire::Tristate::YES: return std::optional<bool>(true);
    case wire::Tristate::NO: return std::optional<bool>(false);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown value ", U(v), " (this server knows 0..2)"));
}

// ------------------------------------------------------------------ Values

void ToWire(const engine::Connection& c, wire::Connection::Builder out) {
  ToWire(engine::AsView(c), out);
}

void ToWire(const engine::ConnectionView& c, wire::Connection::Builder out) {
  out.setShop(c.shop);
  if (engine::IsExternalIdKey(c.canonical_email)) {  // Keyed by external id (issue 12).
    const absl::string_view id = engine::ExternalIdOfKey(c.canonical_email);
    CopyText(id, out.initExternalId(id.size()));
  } else {
    CopyText(c.canonical_email, out.initCanonicalEmail(c.canonical_email.size()));
    CopyText(c.entered_email, out.initEnteredEmail(c.entered_email.size()));
  }
  out.setAffiliate(c.affiliate);
  out.setSource(ToWire(c.source));
  out.setConnectedAt(c.connected_at);
  // An empty name stays a null pointer: reads as "" and costs no bytes.
  if (!c.name.empty()) CopyText(c.name, out.initName(c.name.size()));
  out.setOrderCount(c.order_count);
  out.setLastOrderAt(c.last_order_at);
}

void ToWire(const engine::ConnectionStatus& s, wire::Status::Builder out) {
  out.setActivity(ToWire(s.inactive));
  out.setExpiresAt(s.expires_at);
  out.setOrdersRemaining(s.orders_remaining);
}

void ToWire(const engine::LookupResult& r, wire::LookupResult::Builder out) {
  out.setFound(r.found);
  if (!r.found) return;  // connection and status stay null: read as defaults.
  ToWire(r.connection, out.initConnection());
  ToWire(r.status, out.initStatus());
}

void ToWire(const engine::AttributionDecision& d, wire::Decision::Builder out) {
  CopyText(d.order_id, out.initOrderId(d.order_id.size()));
  out.setOrderedAt(d.ordered_at);
  out.setAffiliate(d.affiliate);
  out.setReason(ToWire(d.reason));
  out.setConnectionActivity(ToWire(d.connection_inactive));
  out.setCounted(d.counted);
  out.setConnectionCreated(d.connection_created);
  out.setConnectionMoved(d.connection_moved);
  out.setPreviousAffiliate(d.previous_affiliate);
  if (!d.canonical_email.empty()) {
    CopyText(d.canonical_email, out.initCanonicalEmail(d.canonical_email.size()));
  }
  out.setReversed(d.reversed);
  out.setReferralRefused(static_cast<wire::ReferralRefusal>(U(d.referral_refused)));
  out.setRefusedAffiliate(d.refused_affiliate);
  out.setOrderNumberInConnection(d.order_number_in_connection);
  out.setNewCustomerSource(static_cast<wire::NewCustomerSource>(U(d.new_customer_source)));
  out.setOrderNumberForCustomer(d.order_number_for_customer);
}

void ToWire(const engine::ShopSettings& s, wire::Settings::Builder out) {
  out.setConnectionsEnabled(s.connections_enabled);
  out.setAutoConnect(s.auto_connect);
  out.setAutoConnectNewCustomersOnly(s.auto_connect_new_customers_only);
  out.setValidityDays(s.validity_days);
  out.setValidityMode(ToWire(s.validity_mode));
  out.setValidityMaxOrders(s.validity_max_orders);
  out.setPrecedence(ToWire(s.precedence));
  out.setRequireRegisteredAffiliates(s.require_registered_affiliates);
  out.setBlockSelfReferrals(s.block_self_referrals);
  out.setOnCustomerBecomesAffiliate(
      static_cast<wire::CustomerBecomesAffiliate>(U(s.on_customer_becomes_affiliate)));
  out.setAutoLinkIdentifiers(s.auto_link_identifiers);
  out.setMergeConflict(static_cast<wire::MergeConflict>(U(s.merge_conflict)));
  out.setCustomerDirectory(s.customer_directory);
}

// ------------------------------------------------------------------ Requests

absl::StatusOr<engine::ShopSettingsPatch> FromWire(wire::SettingsPatch::Reader p) {
  using P = wire::SettingsPatch;
  engine::ShopSettingsPatch out;

  // Each field is a union {keep, set}; anything else is a member this server does
  // not know (a newer client): refused rather than silently kept.
  const auto ce = p.getConnectionsEnabled();
  if (ce.isSet()) out.connections_enabled = ce.getSet();
  else if (!ce.isKeep()) return UnknownUnionMember("connections_enabled", ce.which());

  const auto ac = p.getAutoConnect();
  if (ac.isSet()) out.auto_connect = ac.getSet();
  else if (!ac.isKeep()) return UnknownUnionMember("auto_connect", ac.which());

  const auto acn = p.getAutoConnectNewCustomersOnly();
  if (acn.isSet()) out.auto_connect_new_customers_only = acn.getSet();
  else if (!acn.isKeep()) {
    return UnknownUnionMember("auto_connect_new_customers_only", acn.which());
  }

  const auto vd = p.getValidityDays();
  if (vd.isSet()) out.validity_days = vd.getSet();
  else if (!vd.isKeep()) return UnknownUnionMember("validity_days", vd.which());

  const auto vm = p.getValidityMode();
  if (vm.which() == P::ValidityMode::SET) {
    absl::StatusOr<engine::ValidityMode> mode = FromWire(vm.getSet(), "validity_mode");
    if (!mode.ok()) return mode.status();
    out.validity_mode = *mode;
  } else if (!vm.isKeep()) {
    return UnknownUnionMember("validity_mode", vm.which());
  }

  const auto vmo = p.getValidityMaxOrders();
  if (vmo.isSet()) out.validity_max_orders = vmo.getSet();
  else if (!vmo.isKeep()) return UnknownUnionMember("validity_max_orders", vmo.which());

  const auto pr = p.getPrecedence();
  if (pr.which() == P::Precedence::SET) {
    absl::StatusOr<engine::Precedence> precedence = FromWire(pr.getSet(), "precedence");
    if (!precedence.ok()) return precedence.status();
    out.precedence = *precedence;
  } else if (!pr.isKeep()) {
    return UnknownUnionMember("precedence", pr.which());
  }

  const auto rr = p.getRequireRegisteredAffiliates();
  if (rr.isSet()) out.require_registered_affiliates = rr.getSet();
  else if (!rr.isKeep()) return UnknownUnionMember("require_registered_affiliates", rr.which());

  const auto bs = p.getBlockSelfReferrals();
  if (bs.isSet()) out.block_self_referrals = bs.getSet();
  else if (!bs.isKeep()) return UnknownUnionMember("block_self_referrals", bs.which());

  const auto al = p.getAutoLinkIdentifiers();
  if (al.isSet()) out.auto_link_identifiers = al.getSet();
  else if (!al.isKeep()) return UnknownUnionMember("auto_link_identifiers", al.which());
  const auto cd = p.getCustomerDirectory();
  if (cd.isSet()) out.customer_directory = cd.getSet();
  else if (!cd.isKeep()) return UnknownUnionMember("customer_directory", cd.which());
  const auto mc = p.getMergeConflict();
  if (mc.isSet()) {
    const auto v = mc.getSet();
    if (U(v) > U(engine::MergeConflictRule::kRefuse)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "merge_conflict: unknown value ", U(v), " (this server knows 0..3)"));
    }
    out.merge_conflict = static_cast<engine::MergeConflictRule>(U(v));
  } else if (!mc.isKeep()) {
    return UnknownUnionMember("merge_conflict", mc.which());
  }

  const auto cb = p.getOnCustomerBecomesAffiliate();
  if (cb.isSet()) {
    const auto v = cb.getSet();
    if (U(v) > U(engine::CustomerBecomesAffiliate::kDisconnect)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "on_customer_becomes_affiliate: unknown value ", U(v), " (this server knows 0..1)"));
    }
    out.on_customer_becomes_affiliate = static_cast<engine::CustomerBecomesAffiliate>(U(v));
  } else if (!cb.isKeep()) {
    return UnknownUnionMember("on_customer_becomes_affiliate", cb.which());
  }
  return out;
}

absl::Status FromWire(wire::ListRequest::Reader r, engine::ListRequest* out) {
  out->shop = r.getShop();
  if (r.getAffiliate() != 0) out->affiliate = r.getAffiliate();
  const absl::string_view prefix = View(r.getEmailPrefix());
  out->email_prefix.assign(prefix.data(), prefix.size());
  const auto source = r.getSource();
  if (source.isOnly()) {
    absl::StatusOr<engine::Source> s = FromWire(source.getOnly(), "source");
    if (!s.ok()) return s.status();
    out->source = *s;
  } else if (!source.isAny()) {
    return UnknownUnionMember("source", source.which());
  }
  const absl::string_view cursor = View(r.getCursor());
  out->cursor.assign(cursor.data(), cursor.size());
  out->limit = r.getLimit();
  if (r.getAt() != 0) out->at = r.getAt();
  return absl::OkStatus();
}

}  // namespace attrib::net
