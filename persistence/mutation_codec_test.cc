// persistence/mutation_codec_test.cc: round trips of every mutation shape and
// extreme value, a pinned byte layout, exact error messages, and hostile input
// (every truncation, random byte flips, random garbage) that must fail cleanly.
//
// Randomized tests use a fixed seed, overridable with ATTRIB_TEST_SEED, and print
// it on failure.
//
// Thread-safety: single-threaded tests.
#include "persistence/mutation_codec.h"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/mutation_codec_test_util.h"

namespace attrib::engine {
// For gtest failure messages.
void PrintTo(const Mutation& m, std::ostream* os) {
  std::string bytes;
  persistence::EncodeMutation(m, &bytes);
  *os << "{made_at " << m.made_at << ": " << persistence::DescribeMutation(m)
      << " | bytes " << absl::BytesToHexString(bytes) << "}";
}
}  // namespace attrib::engine

namespace attrib::persistence {
namespace {

using engine::AttributionDecision;
using engine::Connection;
using engine::Mutation;
using engine::OrderCounters;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

uint64_t TestSeed() {
  const char* env = std::getenv("ATTRIB_TEST_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 20260121;
}

using codec_testing::Encode;
using codec_testing::ExpectRoundTrip;

// A 255-byte UTF-8 string (2-byte "é" repeated, then one ASCII byte).
std::string LongUtf8() {
  std::string s;
  while (s.size() + 2 <= kMaxCodecStringBytes) s += "\xc3\xa9";
  while (s.size() < kMaxCodecStringBytes) s += "x";
  return s;
}

Connection ExtremeConnection() {
  Connection c;
  c.shop = kMaxU64;
  c.canonical_email = LongUtf8();
  c.entered_email = std::string(kMaxCodecStringBytes, '\0');  // Any bytes pass.
  c.affiliate = kMaxU64;
  c.source = engine::Source::kReferral;
  c.connected_at = kMinTime;
  c.name = "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";  // 日本 😀
  c.order_count = kMaxU32;
  c.last_order_at = kMaxTime;
  return c;
}

std::vector<Mutation> Samples() {
  std::vector<Mutation> out;
  // Defaults (zeros, empty strings) of every op.
  out.push_back(Mutation{0, engine::SetConnection{}});
  out.push_back(Mutation{0, engine::RemoveConnection{}});
  out.push_back(Mutation{0, engine::PutSettings{}});
  out.push_back(Mutation{0, engine::RecordOrder{}});
  out.push_back(Mutation{0, engine::ReverseOrder{}});

  for (int src = 0; src <= 3; ++src) {
    Connection c = ExtremeConnection();
    c.source = static_cast<engine::Source>(src);
    out.push_back(Mutation{kMaxTime, engine::SetConnection{c, kMaxU64}});
  }
  out.push_back(Mutation{-1, engine::RemoveConnection{kMaxU64, LongUtf8(), kMaxU64}});

  for (int bits = 0; bits < 8; ++bits) {
    for (int mode = 0; mode <= 1; ++mode) {
      for (int prec = 0; prec <= 2; ++prec) {
        engine::ShopSettings s;
        s.connections_enabled = (bits & 1) != 0;
        s.auto_connect = (bits & 2) != 0;
        s.auto_connect_new_customers_only = (bits & 4) != 0;
        s.validity_days = bits == 0 ? kMaxU32 : static_cast<uint32_t>(bits * 127);
        s.validity_mode = static_cast<engine::ValidityMode>(mode);
        s.validity_max_orders = prec == 0 ? kMaxU32 : static_cast<uint32_t>(prec);
        s.precedence = static_cast<engine::Precedence>(prec);
        out.push_back(Mutation{kMinTime, engine::PutSettings{kMaxU64, s}});
      }
    }
  }

  for (int shape = 0; shape < 4; ++shape) {
    for (int flags = 0; flags < 16; ++flags) {
      engine::RecordOrder op;
      op.shop = kMaxU64;
      AttributionDecision& d = op.decision;
      d.order_id = std::string(kMaxCodecStringBytes, 'o');
      d.ordered_at = flags % 2 == 0 ? kMinTime : kMaxTime;
      d.affiliate = kMaxU64;
      d.reason = static_cast<engine::Reason>(flags % 3);
      d.connection_inactive = static_cast<engine::InactiveReason>(flags % 4);
      d.counted = (flags & 1) != 0;
      d.connection_created = (flags & 2) != 0;
      d.connection_moved = (flags & 4) != 0;
      d.reversed = (flags & 8) != 0;
      d.previous_affiliate = kMaxU64 - 1;
      d.canonical_email = LongUtf8();
      if (shape & 1) op.new_connection = ExtremeConnection();
      if (shape & 2) op.counters = OrderCounters{kMaxU32, kMinTime};
      op.counted_affiliate = kMaxU64;
      op.counted_connected_at = kMinTime;
      op.prev_last_order_at = -1;
      out.push_back(Mutation{-86'400'000, op});
    }
  }

  out.push_back(Mutation{1, engine::ReverseOrder{1, "A-1", "jane@example.com", {}}});
  out.push_back(Mutation{kMaxTime, engine::ReverseOrder{kMaxU64, LongUtf8(), LongUtf8(),
                                                       OrderCounters{kMaxU32, kMaxTime}}});
  out.push_back(Mutation{kMinTime, engine::ReverseOrder{0, "", "", OrderCounters{}}});
  for (int flags = 0; flags < 4; ++flags) {
    engine::WebhookEndpoint e;
    e.id = flags == 0 ? 1 : kMaxU64;
    e.shop = kMaxU64;
    e.url = std::string(kMaxCodecStringBytes, 'u');
    e.event_mask = flags == 0 ? 0 : (1u << engine::kWebhookEventTypes.size()) - 1;
    e.enabled = (flags & 1) != 0;
    e.disabled_reason = flags == 2 ? LongUtf8() : "";
    e.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    e.previous_secret = flags == 3 ? "whsec_b2xk" : "";
    e.previous_secret_expires_at = flags == 3 ? kMaxTime : 0;
    e.created_at = kMinTime;
    e.updated_at = kMaxTime;
    out.push_back(Mutation{kMaxTime, engine::PutWebhookEndpoint{e, (flags & 2) != 0}});
  }
  out.push_back(Mutation{1, engine::RemoveWebhookEndpoint{kMaxU64, 3}});
  return out;
}

TEST(MutationCodecTest, EverySampleRoundTrips) {
  for (const Mutation& m : Samples()) ExpectRoundTrip(m);
}

TEST(MutationCodecTest, EncodeAppends) {
  const Mutation m{5, engine::RemoveConnection{1, "a@b", 2}};
  std::string out = "prefix";
  EncodeMutation(m, &out);
  ASSERT_THAT(out, StartsWith("prefix"));
  EXPECT_EQ(out.substr(6), Encode(m));
}

// The byte layout is persisted: pin it, so a change to the format fails loudly.
TEST(MutationCodecTest, ByteLayoutIsPinned) {
  // tag 2, made_at -1 (zigzag 1), shop 1, "a@b", previous_affiliate 300 (0xAC 0x02).
  EXPECT_EQ(absl::BytesToHexString(
                Encode(Mutation{-1, engine::RemoveConnection{1, "a@b", 300}})),
            "02010103614062ac02");
  // tag 3, made_at 1 (zigzag 2), shop 7, flags 0b101, days 30, sliding, max 0,
  // referral_takes_over.
  engine::ShopSettings s;
  s.connections_enabled = true;
  s.auto_connect = false;
  s.auto_connect_new_customers_only = true;
  s.validity_days = 30;
  s.validity_mode = engine::ValidityMode::kSliding;
  s.precedence = engine::Precedence::kReferralTakesOver;
  EXPECT_EQ(absl::BytesToHexString(Encode(Mutation{1, engine::PutSettings{7, s}})),
            "030207051e010002");
  // tag 5, made_at 0, shop 1, "x", "", counters present: 3, last_order_at 2 (zigzag 4).
  EXPECT_EQ(absl::BytesToHexString(Encode(
                Mutation{0, engine::ReverseOrder{1, "x", "", OrderCounters{3, 2}}})),
            "050001017800010304");
}

TEST(MutationCodecTest, RandomizedRoundTrip) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with ATTRIB_TEST_SEED=", seed, ")"));
  std::mt19937_64 rng(seed);
  auto u64 = [&] {
    switch (rng() % 4) {  // Bias towards the edges.
      case 0: return uint64_t{0};
      case 1: return kMaxU64 - rng() % 3;
      case 2: return rng() % 300;
      default: return rng() >> (rng() % 64);
    }
  };
  auto time = [&] { return static_cast<int64_t>(u64()) * (rng() % 2 ? 1 : -1); };
  auto u32 = [&] { return static_cast<uint32_t>(u64()); };
  auto str = [&] {
    std::string s(rng() % 4 == 0 ? kMaxCodecStringBytes : rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  auto conn = [&] {
    return Connection{u64(), str(), str(), u64(), static_cast<engine::Source>(rng() % 4),
                      time(), str(), u32(), time()};
  };
  auto counters = [&]() -> std::optional<OrderCounters> {
    if (rng() % 2) return std::nullopt;
    return OrderCounters{u32(), time()};
  };
  for (int i = 0; i < 20000; ++i) {
    Mutation m;
    m.made_at = time();
    switch (rng() % 5) {
      case 0: m.op = engine::SetConnection{conn(), u64()}; break;
      case 1: m.op = engine::RemoveConnection{u64(), str(), u64()}; break;
      case 2: {
        engine::ShopSettings s{rng() % 2 == 0, rng() % 2 == 0, rng() % 2 == 0, u32(),
                               static_cast<engine::ValidityMode>(rng() % 2), u32(),
                               static_cast<engine::Precedence>(rng() % 3)};
        m.op = engine::PutSettings{u64(), s};
        break;
      }
      case 3: {
        engine::RecordOrder op;
        op.shop = u64();
        op.decision = AttributionDecision{
            str(), time(), u64(), static_cast<engine::Reason>(rng() % 3),
            static_cast<engine::InactiveReason>(rng() % 4), rng() % 2 == 0,
            rng() % 2 == 0, rng() % 2 == 0, u64(), str(), rng() % 2 == 0};
        if (rng() % 2) op.new_connection = conn();
        op.counters = counters();
        op.counted_affiliate = u64();
        op.counted_connected_at = time();
        op.prev_last_order_at = time();
        m.op = op;
        break;
      }
      default: m.op = engine::ReverseOrder{u64(), str(), str(), counters()}; break;
    }
    ExpectRoundTrip(m);
    if (HasFailure()) return;
  }
}

TEST(MutationCodecTest, EveryTruncationFailsCleanly) {
  for (const Mutation& m : Samples()) {
    const std::string bytes = Encode(m);
    for (size_t n = 0; n < bytes.size(); ++n) {
      absl::StatusOr<Mutation> decoded = DecodeMutation(bytes.substr(0, n));
      ASSERT_FALSE(decoded.ok()) << "prefix of " << n << " bytes of "
                                 << ::testing::PrintToString(m);
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(std::string(decoded.status().message()), StartsWith("mutation: "));
    }
  }
}

// Decodes hostile bytes: either DataLoss, or a mutation that round-trips.
void ExpectCleanOutcome(absl::string_view bytes) {
  absl::StatusOr<Mutation> decoded = DecodeMutation(bytes);
  if (!decoded.ok()) {
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << decoded.status();
    return;
  }
  ExpectRoundTrip(*decoded);
  (void)DescribeMutation(*decoded);  // Must not crash either.
}

TEST(MutationCodecTest, RandomByteFlipsNeverCrash) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(absl::StrCat("seed ", seed, " (rerun with ATTRIB_TEST_SEED=", seed, ")"));
  std::mt19937_64 rng(seed);
  const std::vector<Mutation> samples = Samples();
  for (int i = 0; i < 50000 && !HasFailure(); ++i) {
    std::string bytes = Encode(samples[rng() % samples.size()]);
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      char& b = bytes[rng() % bytes.size()];
      b = rng() % 2 ? static_cast<char>(b ^ (1 << (rng() % 8))) : static_cast<char>(rng());
    }
    ExpectCleanOutcome(bytes);
  }
  // Pure garbage, mostly starting with a valid tag so the body parsers run.
  for (int i = 0; i < 50000 && !HasFailure(); ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? rng() % 3 : rng());
    if (!bytes.empty() && rng() % 8 != 0) bytes[0] = static_cast<char>(1 + rng() % 5);
    ExpectCleanOutcome(bytes);
  }
}

absl::Status DecodeStatus(absl::string_view bytes) { return DecodeMutation(bytes).status(); }

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

TEST(MutationCodecTest, ErrorsNameTheField) {
  engine::RecordOrder op;
  op.decision.order_id = std::string(300, 'x');
  absl::Status s = DecodeStatus(Encode(Mutation{0, op}));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "mutation: RecordOrder.decision.order_id: length 300 over 255");

  Connection c;
  c.name = std::string(256, 'n');
  op = engine::RecordOrder{};
  op.new_connection = c;
  EXPECT_EQ(DecodeStatus(Encode(Mutation{0, op})).message(),
            "mutation: RecordOrder.new_connection.name: length 256 over 255");

  c = Connection{};
  c.source = static_cast<engine::Source>(4);
  EXPECT_EQ(DecodeStatus(Encode(Mutation{0, engine::SetConnection{c, 0}})).message(),
            "mutation: SetConnection.connection.source: value 4 out of range 0..3");

  engine::ShopSettings st;
  st.precedence = static_cast<engine::Precedence>(3);
  EXPECT_EQ(DecodeStatus(Encode(Mutation{0, engine::PutSettings{1, st}})).message(),
            "mutation: PutSettings.settings.precedence: value 3 out of range 0..2");

  op = engine::RecordOrder{};
  op.decision.reason = static_cast<engine::Reason>(200);
  EXPECT_THAT(std::string(DecodeStatus(Encode(Mutation{0, op})).message()),
              HasSubstr("RecordOrder.decision.reason: value 200 out of range 0..3"));  // Tag 9.
}

TEST(MutationCodecTest, MalformedPrimitivesAreDataLoss) {
  struct Case {
    std::string hex;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "mutation: tag: truncated (input ends at byte 0)"},
      {"0000", "mutation: tag: unknown mutation type 0"},
      {"1500", "mutation: tag: unknown mutation type 21"},
      {"ff00", "mutation: tag: unknown mutation type 255"},
      {"02", "mutation: made_at: truncated varint (input ends at byte 1)"},
      // made_at: 10-byte varint whose last byte continues, or carries bits over 63.
      {"02808080808080808080800100",
       "mutation: made_at: varint longer than 10 bytes"},
      {"02ffffffffffffffffff02", "mutation: made_at: varint overflows 64 bits"},
      // PutSettings.validity_days = 2^32.
      {"030001008080808010000000",
       "mutation: PutSettings.settings.validity_days: value 4294967296 over 4294967295"},
      {"03000110000000", "mutation: PutSettings.settings.flags: unknown bits 0x10"},
      // ReverseOrder: presence byte 2.
      {"050001000002", "mutation: ReverseOrder.counters: presence byte 2 is not 0 or 1"},
      {"0500010000018080808010",
       "mutation: ReverseOrder.counters.order_count: value 4294967296 over 4294967295"},
      // RemoveConnection: string length running past the input.
      {"020001056162", "mutation: RemoveConnection.canonical_email: truncated "
                       "(length 5, 2 bytes left)"},
      // A valid RemoveConnection plus one byte.
      {"0201010361406200ff", "mutation: 1 trailing bytes after byte 8"},
  };
  for (const Case& c : cases) {
    absl::Status s = DecodeStatus(Hex(c.hex));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.hex;
    EXPECT_EQ(s.message(), c.message) << c.hex;
  }
  // The largest u64 in 10 bytes is fine.
  absl::StatusOr<Mutation> max = DecodeMutation(Hex("02ffffffffffffffffff01000000"));
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(max->made_at, std::numeric_limits<int64_t>::min());  // zigzag(2^64 - 1)
}

TEST(MutationCodecTest, DescribeIsOneReadableLine) {
  Connection c;
  c.shop = 1;
  c.canonical_email = "janedoe@gmail.com";
  c.entered_email = "janedoe@gmail.com";
  c.affiliate = 42;
  c.source = engine::Source::kImport;
  c.connected_at = 1767323045000;  // 2026-01-02T03:04:05Z
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::SetConnection{c, 0}}),
            "connect shop 1 janedoe@gmail.com -> affiliate 42 (import, connected "
            "2026-01-02T03:04:05Z)");
  c.entered_email = "Jane.Doe@GMail.com";
  c.name = "Jane\x1b[31m";
  c.order_count = 2;
  c.last_order_at = 1767323045500;
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::SetConnection{c, 7}}),
            "reassign shop 1 janedoe@gmail.com -> affiliate 42 (import, connected "
            "2026-01-02T03:04:05Z, was affiliate 7, entered \"Jane.Doe@GMail.com\", "
            "name \"Jane\\x1b[31m\", 2 orders, last 2026-01-02T03:04:05.5Z)");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::RemoveConnection{1, "a@b.c", 42}}),
            "disconnect shop 1 a@b.c (was affiliate 42)");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::PutSettings{3, {}}}),
            "settings shop 3: connections_enabled=true auto_connect=false "
            "auto_connect_new_customers_only=false validity_days=0 validity_mode=fixed "
            "validity_max_orders=0 precedence=connection_first "
            "require_registered_affiliates=false block_self_referrals=true "
            "on_customer_becomes_affiliate=keep");

  engine::RecordOrder op;
  op.shop = 1;
  op.decision.order_id = "A-100";
  op.decision.ordered_at = 1767323045000;
  op.decision.affiliate = 42;
  op.decision.reason = engine::Reason::kConnected;
  op.decision.counted = true;
  op.decision.canonical_email = "janedoe@gmail.com";
  op.counters = OrderCounters{3, 1767323045000};
  EXPECT_EQ(DescribeMutation(Mutation{0, op}),
            "order shop 1 \"A-100\" janedoe@gmail.com at 2026-01-02T03:04:05Z -> "
            "affiliate 42 (connected; counted; now 3 orders, last 2026-01-02T03:04:05Z)");
  op = engine::RecordOrder{};
  op.decision.order_id = "B";
  EXPECT_EQ(DescribeMutation(Mutation{0, op}),
            "order shop 0 \"B\" (no email) at 1970-01-01T00:00:00Z -> no affiliate "
            "(not counted)");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::ReverseOrder{1, "A-100", "j@x.io",
                                                              OrderCounters{2, 0}}}),
            "reverse order shop 1 \"A-100\" j@x.io (un-counted, now 2 orders)");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::ReverseOrder{1, "A-1", "", {}}}),
            "reverse order shop 1 \"A-1\" (no email) (nothing to un-count)");
  for (const Mutation& m : Samples()) {
    EXPECT_EQ(DescribeMutation(m).find('\n'), std::string::npos);
    EXPECT_EQ(DescribeMutation(m).find("whsec_"), std::string::npos) << "a secret is printed";
  }
  engine::WebhookEndpoint e;
  e.id = 4;
  e.shop = 2;
  e.url = "https://x.io/h";
  e.event_mask = 1 | 8;
  e.enabled = false;
  e.disabled_reason = "the receiver answered 410 Gone";
  e.secret = "whsec_c2VjcmV0";
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::PutWebhookEndpoint{e, true}}),
            "webhook endpoint created shop 2 ep_4 https://x.io/h (events "
            "connection.created,order.attributed, disabled: the receiver answered 410 Gone)");
  EXPECT_EQ(DescribeMutation(Mutation{0, engine::RemoveWebhookEndpoint{2, 4}}),
            "webhook endpoint deleted shop 2 ep_4");
}

}  // namespace
}  // namespace attrib::persistence
