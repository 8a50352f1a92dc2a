// service/service_customers.cc: the customer directory's operations of the service
// layer (issue 12; see service.h): scope checks and durability as the other
// operations; the semantics are the engine's (engine_customers.cc).
#include "service/service.h"

namespace attrib::service {

absl::StatusOr<engine::CustomerRecord> Service::GetCustomerRecord(
    const Call& call, engine::ShopId shop, const engine::CustomerRef& c) const {
  if (absl::Status s = CheckRead(call.scope, shop); !s.ok()) return s;
  return engine_->GetCustomerRecord(shop, c);
}

absl::StatusOr<engine::CustomerPage> Service::SearchCustomers(
    const Call& call, const engine::CustomerQuery& q) const {
  if (absl::Status s = CheckRead(call.scope, q.shop); !s.ok()) return s;
  return engine_->SearchCustomers(q);
}

absl::StatusOr<engine::CustomerRecord> Service::PutCustomerName(Call& call, engine::ShopId shop,
                                                                const engine::CustomerRef& c,
                                                                absl::string_view name) {
  return Write(call, shop, "putCustomer", [&] { return engine_->PutCustomerName(shop, c, name); });
}

}  // namespace attrib::service
