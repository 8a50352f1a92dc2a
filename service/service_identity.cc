// service/service_identity.cc: the customer-identifier operations of the service
// layer (issue 12; see service.h): scope and durability as the other operations.
#include "service/service.h"

namespace attrib::service {

absl::StatusOr<engine::DisconnectResult> Service::DisconnectCustomer(
    Call& call, engine::ShopId shop, const engine::CustomerRef& c) {
  return Write(call, shop, "disconnect", [&] { return engine_->Disconnect(shop, c); });
}

absl::StatusOr<engine::LookupResult> Service::LookupCustomer(
    const Call& call, engine::ShopId shop, const engine::CustomerRef& c,
    std::optional<engine::TimeMs> at) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->LookupCustomer(shop, c, at);
}

absl::StatusOr<engine::CustomerInfo> Service::GetCustomer(const Call& call, engine::ShopId shop,
                                                          const engine::CustomerRef& c) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->GetCustomer(shop, c);
}

absl::StatusOr<engine::CustomerInfo> Service::LinkIdentifier(
    Call& call, engine::ShopId shop, const engine::CustomerRef& customer,
    const engine::CustomerRef& identifier) {
  return Write(call, shop, "linkIdentifier",
               [&] { return engine_->LinkIdentifier(shop, customer, identifier); });
}

absl::StatusOr<engine::CustomerInfo> Service::UnlinkIdentifier(
    Call& call, engine::ShopId shop, const engine::CustomerRef& identifier) {
  return Write(call, shop, "unlinkIdentifier",
               [&] { return engine_->UnlinkIdentifier(shop, identifier); });
}

absl::StatusOr<engine::IdentityChange> Service::MergeCustomers(Call& call,
                                                               const engine::MergeRequest& r) {
  return Write(call, r.shop, "mergeCustomers", [&] { return engine_->MergeCustomers(r); });
}

}  // namespace attrib::service
