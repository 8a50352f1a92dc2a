// engine/engine.cc: the engine's operations (see engine.h). Each mutating operation
// is: validate, then under the locks of what it touches: decide (rules.h), apply
// (the same code Apply() uses for replay), emit the Mutation.
#include "engine/engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "engine/affiliate_rules.h"
#include "engine/rules.h"
#include "engine/validation.h"

namespace attrib::engine {
namespace {

#define ATTRIB_RETURN_IF_ERROR(expr)        \
  do {                                      \
    const absl::Status status_ = (expr);    \
    if (!status_.ok()) return status_;      \
  } while (0)

absl::Status ValidateOrderId(absl::string_view order_id) {
  return ValidateText("order_id", order_id, kMaxOrderIdBytes, /*allow_empty=*/false);
}

absl::Status AlreadyConnected(const Connection& current) {
  absl::Status s = absl::AlreadyExistsError(absl::StrCat(
      "already_connected: ", current.entered_email, " is connected to affiliate ",
      current.affiliate, " in shop ", current.shop,
      " (use mode reassign to replace the connection)"));
  s.SetPayload(kCurrentAffiliatePayload, absl::Cord(absl::StrCat(current.affiliate)));
  return s;
}

absl::Status OrderNotFound(ShopId shop, absl::string_view order_id) {
  return absl::NotFoundError(absl::StrCat(
      "not_found: order '", order_id, "' of shop ", shop,
      " is not remembered (never attributed, or older than the order window)"));
}


}  // namespace

Engine::Engine(const EngineOptions& options)
    : clock_(options.clock != nullptr ? options.clock : SystemClock::Get()),
      sink_(options.sink),
      store_(options.shard_count, options.email_policy),
      webhooks_(options.max_webhook_endpoints_per_shop),
      identity_(std::min(options.shard_count, kMaxIdentityIndexShards)),
      customers_(std::min(options.shard_count, kMaxCustomerDirectoryShards)),
      orders_(options.shard_count, options.order_window_ms) {}

void Engine::Emit(Mutation m) const {
  if (sink_ != nullptr) sink_->OnMutation(m);
}

// ---------------------------------------------------------------- Connections

absl::StatusOr<ConnectResult> Engine::Connect(const ConnectRequest& req) {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", req.shop));
  ATTRIB_RETURN_IF_ERROR(ValidateId("affiliate", req.affiliate));
  if (req.connected_at) ATTRIB_RETURN_IF_ERROR(ValidateTime("connected_at", *req.connected_at));
  if (req.name) ATTRIB_RETURN_IF_ERROR(ValidateText("name", *req.name, kMaxNameBytes, true));
  // The customer (engine_identity.cc): by email, external id, or both (linked).
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(CustomerRef{
      req.email.empty() && req.external_id ? std::nullopt
                                           : std::optional<std::string>(req.email),
      req.external_id});
  if (!who.ok()) return who.status();
  const TimeMs now = clock_->NowMs();
  IdentityChange identity;
  if (who->both()) {
    JoinOptions join;
    join.cause = IdentityCause::kConnect;
    absl::StatusOr<IdentityChange> joined =
        JoinIdentifiers(req.shop, who->email.canonical, who->external_id, join);
    if (!joined.ok()) return joined.status();
    if (!joined->not_joined.empty()) {
      return absl::FailedPreconditionError(joined->not_joined);
    }
    identity = *std::move(joined);
  }
  const std::string& id = who->key();
  // The directory's rules (affiliate_rules.h). Judged before the key is locked (lock
  // order): a put racing this connect is ordered before or after it as a whole.
  ATTRIB_RETURN_IF_ERROR(ConnectAllowed(
      Standing(req.shop, req.affiliate, CustomerEmails(req.shop, identity_.Resolve(req.shop, id)),
               settings_.Get(req.shop)),
      req.shop, req.affiliate, who->has_email ? who->email.canonical : id));

  absl::StatusOr<ConnectResult> out;
  MutateCustomer(req.shop, id, [&](KeyEditor& editor, absl::string_view primary) {
    out = [&]() -> absl::StatusOr<ConnectResult> {
    const std::optional<Connection>& current = editor.current();
    ConnectResult result;
    result.identity = identity;
    if (current && req.mode == ConnectMode::kIfAbsent) {
      // Whether the shop has connections switched off says nothing about whether
      // this one still holds: judge it as if they were on.
      ShopSettings settings = settings_.Get(req.shop);
      settings.connections_enabled = true;
      const ConnectionStatus status = EvaluateConnection(*current, settings, now);
      if (status.active()) {
        if (current->affiliate != req.affiliate) return AlreadyConnected(*current);
        result.outcome = ConnectResult::Outcome::kUnchanged;
        result.connection = *current;
        SeeCustomer(req.shop, primary, req.name, std::nullopt, now, settings_.Get(req.shop),
                    /*create=*/false);
        return result;
      }
      result.previous_inactive = status.inactive;
    }
    SetConnection op;
    Connection& c = op.connection;
    c.shop = req.shop;
    c.canonical_email = std::string(primary);
    c.entered_email = who->has_email && primary == who->email.canonical
                          ? who->email.entered
                          : (current ? current->entered_email : std::string(primary));
    c.affiliate = req.affiliate;
    c.source = req.source;
    c.connected_at = req.connected_at.value_or(now);
    c.name = req.name ? *req.name : (current ? current->name : std::string());
    if (current) {
      result.outcome = ConnectResult::Outcome::kReplaced;
      result.previous_affiliate = op.previous_affiliate = current->affiliate;
    }
    editor.Put(c);
    result.connection = c;
    Emit(Mutation{now, std::move(op)});
    SeeCustomer(req.shop, primary, req.name, std::nullopt, now, settings_.Get(req.shop),
                /*create=*/false);
    return result;
    }();
  });
  return out;
}

absl::StatusOr<DisconnectResult> Engine::Disconnect(ShopId shop, absl::string_view email) {
  return Disconnect(shop, CustomerRef{std::string(email), std::nullopt});
}

absl::StatusOr<DisconnectResult> Engine::Disconnect(ShopId shop, const CustomerRef& customer) {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  absl::StatusOr<CustomerKeys> who = CustomerKeysOf(customer);
  if (!who.ok()) return who.status();
  const TimeMs now = clock_->NowMs();
  absl::StatusOr<DisconnectResult> out;
  MutateCustomer(shop, who->key(), [&](KeyEditor& editor, absl::string_view primary) {
    if (!editor.current()) {
      out = absl::NotFoundError(absl::StrCat("not_found: shop ", shop,
                                             " has no connection for ",
                                             DescribeIdentifierKey(who->key())));
      return;
    }
    DisconnectResult result{*editor.current()};
    editor.Erase();
    Emit(Mutation{now, RemoveConnection{shop, std::string(primary), result.removed.affiliate}});
    // The customer directory keeps the customer the connection remembered.
    SeeCustomer(shop, primary, result.removed.name, std::nullopt, now, settings_.Get(shop));
    out = std::move(result);
  });
  return out;
}

absl::StatusOr<ListPage> Engine::List(const ListRequest& request) const {
  if (request.at) ATTRIB_RETURN_IF_ERROR(ValidateTime("at", *request.at));
  const ShopSettings settings = settings_.Get(request.shop);
  absl::StatusOr<ListPage> page =
      ListConnections(store_, request, settings, request.at.value_or(clock_->NowMs()));
  if (page.ok()) {
    for (ListItem& item : page->items) {
      JudgeByDirectory(request.shop, item.connection.affiliate, settings, &item.status);
    }
  }
  return page;
}

absl::StatusOr<uint64_t> Engine::CountShop(ShopId shop) const {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  return store_.CountShop(shop);
}

absl::StatusOr<uint64_t> Engine::CountAffiliate(ShopId shop, AffiliateId affiliate) const {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  ATTRIB_RETURN_IF_ERROR(ValidateId("affiliate", affiliate));
  return store_.CountAffiliate(shop, affiliate);
}

absl::StatusOr<absl::flat_hash_map<AffiliateId, uint64_t>> Engine::CountsByAffiliate(
    ShopId shop) const {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  return store_.CountsByAffiliate(shop);
}

// ---------------------------------------------------------------- Settings

absl::StatusOr<ShopSettings> Engine::GetSettings(ShopId shop) const {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  return settings_.Get(shop);
}

absl::StatusOr<ShopSettings> Engine::UpdateSettings(ShopId shop,
                                                    const ShopSettingsPatch& patch) {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  if (patch.validity_days && *patch.validity_days > kMaxValidityDays) {
    return absl::InvalidArgumentError(absl::StrCat("validity_days: ", *patch.validity_days,
                                                   " is over the limit ", kMaxValidityDays,
                                                   " (0 means forever)"));
  }
  const TimeMs now = clock_->NowMs();
  return settings_.Update(
      shop,
      [&](const ShopSettings& current) {
        ShopSettings s = current;
        if (patch.connections_enabled) s.connections_enabled = *patch.connections_enabled;
        if (patch.auto_connect) s.auto_connect = *patch.auto_connect;
        if (patch.auto_connect_new_customers_only) {
          s.auto_connect_new_customers_only = *patch.auto_connect_new_customers_only;
        }
        if (patch.validity_days) s.validity_days = *patch.validity_days;
        if (patch.validity_mode) s.validity_mode = *patch.validity_mode;
        if (patch.validity_max_orders) s.validity_max_orders = *patch.validity_max_orders;
        if (patch.precedence) s.precedence = *patch.precedence;
        if (patch.require_registered_affiliates) {
          s.require_registered_affiliates = *patch.require_registered_affiliates;
        }
        if (patch.block_self_referrals) s.block_self_referrals = *patch.block_self_referrals;
        if (patch.on_customer_becomes_affiliate) {
          s.on_customer_becomes_affiliate = *patch.on_customer_becomes_affiliate;
        }
        if (patch.auto_link_identifiers) s.auto_link_identifiers = *patch.auto_link_identifiers;
        if (patch.merge_conflict) s.merge_conflict = *patch.merge_conflict;
        if (patch.customer_directory) s.customer_directory = *patch.customer_directory;
        return s;
      },
      [&](const ShopSettings& s) { Emit(Mutation{now, PutSettings{shop, s}}); });
}

// ---------------------------------------------------------------- Orders

absl::StatusOr<AttributeResult> Engine::Attribute(const AttributeRequest& req) {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", req.shop));
  ATTRIB_RETURN_IF_ERROR(ValidateOrderId(req.order_id));
  if (req.referral_affiliate) {
    ATTRIB_RETURN_IF_ERROR(ValidateId("referral_affiliate", *req.referral_affiliate));
  }
  if (req.ordered_at) ATTRIB_RETURN_IF_ERROR(ValidateTime("ordered_at", *req.ordered_at));
  if (req.name) ATTRIB_RETURN_IF_ERROR(ValidateText("name", *req.name, kMaxNameBytes, true));
  OrderFacts facts;
  facts.shop = req.shop;
  facts.order_id = req.order_id;
  std::optional<CustomerKeys> who;
  if (req.email || req.external_id) {
    absl::StatusOr<CustomerKeys> keys = CustomerKeysOf(CustomerRef{req.email, req.external_id});
    if (!keys.ok()) return keys.status();
    who = *std::move(keys);
    facts.has_email = true;  // The order names a customer (its connection key below).
  }
  facts.referral = req.referral_affiliate.value_or(0);
  facts.customer_is_new = req.customer_is_new;
  const TimeMs now = clock_->NowMs();
  facts.at = req.ordered_at.value_or(now);

  return orders_.With(req.shop, req.order_id,
                      [&](OrderShard& orders,
                          const OrderKey& key) -> absl::StatusOr<AttributeResult> {
    if (const std::optional<OrderRecord> seen = orders.Find(key)) {
      return AttributeResult{seen->decision, /*duplicate=*/true, {}};
    }
    // Both identifiers: evidence they are one customer (auto_link_identifiers).
    IdentityChange identity;
    if (who && who->both() && settings_.Get(req.shop).auto_link_identifiers) {
      JoinOptions join;
      join.cause = IdentityCause::kOrder;
      join.order_id = req.order_id;
      absl::StatusOr<IdentityChange> joined =
          JoinIdentifiers(req.shop, who->email.canonical, who->external_id, join);
      if (!joined.ok()) return joined.status();
      identity = *std::move(joined);
    }
    std::vector<std::string> customer_email_list;
    const auto decide_and_apply = [&](KeyEditor* editor) {
      const std::optional<Connection> none;
      const std::optional<Connection>& current = editor ? editor->current() : none;
      const ShopSettings settings = settings_.Get(req.shop);
      // The customer directory (engine_customers.cc): whether the customer is new,
      // when the request does not say, and this order's number among its orders.
      NewCustomerSource new_source =
          req.customer_is_new ? NewCustomerSource::kRequest : NewCustomerSource::kUnknown;
      uint32_t number_for_customer = 0;
      if (editor != nullptr && settings.customer_directory) {
        const std::optional<CustomerEntry> seen =
            customers_.Get(req.shop, facts.canonical_email);
        const uint32_t before = seen ? seen->orders_seen : 0;
        if (!req.customer_is_new) {
          facts.customer_is_new = before == 0;
          new_source = NewCustomerSource::kDirectory;
        }
        number_for_customer =
            before == std::numeric_limits<uint32_t>::max() ? before : before + 1;
      }
      // The customer's emails as the self-referral check sees them (all of them).
      const absl::Span<const std::string> customer_emails = customer_email_list;
      if (current) {
        facts.connected_standing =
            Standing(req.shop, current->affiliate, customer_emails, settings);
      }
      if (facts.referral != 0) {
        facts.referral_standing = Standing(req.shop, facts.referral, customer_emails, settings);
      }
      const AttributionOutcome outcome = DecideAttribution(facts, current, settings);
      // Resolve every value now, so that replay never recomputes anything.
      RecordOrder op;
      op.shop = req.shop;
      op.decision = outcome.decision;
      op.decision.new_customer_source = new_source;
      op.decision.order_number_for_customer = number_for_customer;
      if (outcome.new_connection) {
        op.new_connection = outcome.new_connection;
        op.counted_affiliate = outcome.new_connection->affiliate;
        op.counted_connected_at = outcome.new_connection->connected_at;
      } else if (outcome.count_current && current) {
        const Connection& c = *current;
        op.counters = OrderCounters{
            c.order_count == std::numeric_limits<uint32_t>::max() ? c.order_count
                                                                  : c.order_count + 1,
            std::max(c.last_order_at, facts.at)};
        op.counted_affiliate = c.affiliate;
        op.counted_connected_at = c.connected_at;
        op.prev_last_order_at = c.last_order_at;
      }
      ApplyRecordOrder(op, &orders, key, editor);
      Emit(Mutation{now, std::move(op)});
      if (editor != nullptr) {
        SeeCustomer(req.shop, facts.canonical_email, req.name, facts.at, now, settings);
      }
    };
    if (who) {
      MutateCustomer(req.shop, who->key(), [&](KeyEditor& editor, absl::string_view primary) {
        facts.canonical_email = std::string(primary);
        facts.entered_email =
            who->has_email && primary == who->email.canonical
                ? who->email.entered
                : (editor.current() ? editor.current()->entered_email : facts.canonical_email);
        customer_email_list = CustomerEmails(req.shop, primary);
        decide_and_apply(&editor);
      });
    } else {
      decide_and_apply(nullptr);
    }
    return AttributeResult{orders.Find(key)->decision, /*duplicate=*/false,
                           std::move(identity)};
  });
}

void Engine::ApplyRecordOrder(const RecordOrder& op, OrderShard* orders,
                              const OrderKey& key, KeyEditor* editor) const {
  if (editor != nullptr) {
    if (op.new_connection) {
      editor->Put(*op.new_connection);
    } else if (op.counters) {
      editor->SetCounters(op.counters->order_count, op.counters->last_order_at);
    }
  }
  if (orders != nullptr) {
    OrderRecord record;
    record.shop = op.shop;
    record.decision = op.decision;
    record.counted_affiliate = op.counted_affiliate;
    record.counted_connected_at = op.counted_connected_at;
    record.prev_last_order_at = op.prev_last_order_at;
    orders->Insert(key, record, orders_.window_ms());
  }
}

namespace {

// The counters of `current` once `order` is un-counted, if it counts against it.
std::optional<OrderCounters> UncountedCounters(const OrderRecord& order,
                                               const std::optional<Connection>& current) {
  // Un-count only from the very connection the order counted against: a connection
  // made since (reassigned, or disconnected and connected again) starts fresh.
  if (!order.decision.counted || !current || current->order_count == 0 ||
      current->affiliate != order.counted_affiliate ||
      current->connected_at != order.counted_connected_at) {
    return std::nullopt;
  }
  // The sliding anchor: with no counted order left it falls back to connected_at;
  // if this order was the newest, it goes back to the newest one before it (as known
  // when this order was counted). Exact unless orders were counted out of time order
  // or within one millisecond, or that previous order was refunded too: keeping every
  // counted order's time per connection would cost more memory than a connection
  // itself (README, "Known limitations").
  OrderCounters out{current->order_count - 1, current->last_order_at};
  if (out.order_count == 0) {
    out.last_order_at = 0;
  } else if (current->last_order_at == order.decision.ordered_at) {
    out.last_order_at = order.prev_last_order_at;
  }
  return out;
}

}  // namespace

absl::StatusOr<ReverseResult> Engine::Reverse(ShopId shop, absl::string_view order_id) {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  ATTRIB_RETURN_IF_ERROR(ValidateOrderId(order_id));
  const TimeMs now = clock_->NowMs();
  return orders_.With(shop, order_id,
                      [&](OrderShard& orders,
                          const OrderKey& key) -> absl::StatusOr<ReverseResult> {
    std::optional<OrderRecord> order = orders.Find(key);
    if (!order) return OrderNotFound(shop, order_id);
    ReverseResult result;
    if (order->decision.reversed) {
      result.decision = order->decision;
      result.already_reversed = true;
      return result;
    }
    ReverseOrder op;
    op.shop = shop;
    op.order_id = std::string(order_id);
    const auto apply = [&](KeyEditor* editor) {
      if (editor != nullptr) {
        if (op.canonical_email.empty()) op.canonical_email = order->decision.canonical_email;
        op.counters = UncountedCounters(*order, editor->current());
      }
      result.uncounted = op.counters.has_value();
      ApplyReverseOrder(op, &orders, key, editor);
      order->decision.reversed = true;
      Emit(Mutation{now, std::move(op)});
    };
    if (order->decision.counted && !order->decision.canonical_email.empty()) {
      // The customer may have been merged since: its connection is at its primary.
      MutateCustomer(shop, order->decision.canonical_email,
                     [&](KeyEditor& editor, absl::string_view primary) {
                       op.canonical_email = std::string(primary);
                       apply(&editor);
                     });
    } else {
      apply(nullptr);
    }
    result.decision = order->decision;
    return result;
  });
}

void Engine::ApplyReverseOrder(const ReverseOrder& op, OrderShard* orders,
                               const OrderKey& key, KeyEditor* editor) {
  if (orders != nullptr) orders->MarkReversed(key);
  if (editor != nullptr && op.counters) {
    editor->SetCounters(op.counters->order_count, op.counters->last_order_at);
  }
}

absl::StatusOr<AttributionDecision> Engine::Explain(ShopId shop,
                                                    absl::string_view order_id) {
  ATTRIB_RETURN_IF_ERROR(ValidateId("shop", shop));
  ATTRIB_RETURN_IF_ERROR(ValidateOrderId(order_id));
  return orders_.With(shop, order_id,
                      [&](OrderShard& orders,
                          const OrderKey& key) -> absl::StatusOr<AttributionDecision> {
    const std::optional<OrderRecord> order = orders.Find(key);
    if (!order) return OrderNotFound(shop, order_id);
    return order->decision;
  });
}

EngineStats Engine::Stats() const {
  EngineStats s;
  s.memory = store_.Memory();
  s.connections = s.memory.connections;
  s.remembered_orders = orders_.size();
  s.shops_with_settings = settings_.size();
  s.affiliates = affiliates_.size();
  return s;
}

}  // namespace attrib::engine
