# net/attrib.capnp
#
# The attrib wire protocol (SPEC §6). Every frame, in both directions, is ONE Cap'n
# Proto message in the standard stream framing (segment table then segments, exactly
# what capnp::writeMessage writes and `capnp encode` prints), with nothing before it.
# A client sends Request messages; the server answers each with one Response carrying
# the same id, in request order on each connection. Clients may pipeline (send many
# requests before reading replies).
#
# Conventions:
#   - Times are milliseconds since the Unix epoch (Int64). In requests, 0 means "not
#     given" (the server uses its clock, or the documented default).
#   - Ids (shop, affiliate) are UInt64 > 0; 0 in a request means "not given" where a
#     field is optional, and is an invalid_argument error where it is required.
#   - Emails are UTF-8 text, as entered; the server canonicalizes them (SPEC §2).
#   - Errors: a Response whose result is `error` (code + message naming the field).
#
# Limits (server flags): a frame is at most --max_frame_bytes (default 1 MiB); a
# batch lookup has at most 10,000 emails; a list page at most 1000 connections.
#
# Compatibility: fields are only ever added (new ordinals), never renumbered.

@0xfb4953c26d077e22;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("attrib::net::wire");

# --------------------------------------------------------------------- Enums

enum Source { manual @0; api @1; import @2; referral @3; }
enum ConnectMode { ifAbsent @0; reassign @1; }
enum ValidityMode { fixed @0; sliding @1; }
enum Precedence { connectionFirst @0; referralFirst @1; referralTakesOver @2; }
# Why an order's affiliate was credited.
enum Reason { none @0; connected @1; referral @2; selfReferral @3; }
# Whether a connection counts at a time, and if not why. affiliateDisabled and
# affiliateNotRegistered appear in decisions only (the affiliate directory's rules).
enum Activity {
  active @0; expired @1; capped @2; disabled @3;
  affiliateDisabled @4; affiliateNotRegistered @5;
}
# Why an order's referral affiliate was not credited (the affiliate directory).
enum ReferralRefusal { none @0; affiliateDisabled @1; affiliateNotRegistered @2; selfReferral @3; }
enum AffiliateStatus { active @0; disabled @1; }
# Shop setting: what putting an affiliate does to a connection of one of its emails
# to another affiliate.
enum CustomerBecomesAffiliate { keep @0; disconnect @1; }
# Shop setting (issue 12): which connection survives when an order's email and
# external id name two customers both actively connected to different affiliates.
enum MergeConflict { keepEarliest @0; keepEmail @1; keepExternalId @2; refuse @3; }
# A yes/no that may be unknown (customer_is_new).
enum Tristate { unknown @0; yes @1; no @2; }
# Where an attribution's "is the customer new" came from (issue 12, the customer
# directory): the request, the directory (no earlier order seen = new), or neither.
enum NewCustomerSource { unknown @0; request @1; directory @2; }

# Mirrors absl::StatusCode one to one (the engine's error codes).
enum ErrorCode {
  ok @0;                  # Never sent.
  cancelled @1;
  unknown @2;
  invalidArgument @3;     # A field is wrong; the message names it.
  deadlineExceeded @4;
  notFound @5;            # not_found: no such connection / remembered order.
  alreadyExists @6;       # already_connected: see Error.currentAffiliate.
  permissionDenied @7;
  resourceExhausted @8;   # A server limit was hit (frame size, connections).
  failedPrecondition @9;
  aborted @10;
  outOfRange @11;
  unimplemented @12;      # The operation is not available in this server.
  internal @13;
  unavailable @14;        # Shutting down, or the disk refuses writes.
  dataLoss @15;
  unauthenticated @16;    # Send `auth` first (server started with a token).
  # Issue 16: a write sent to a replica; Error.primary names the primary's client
  # address (empty: not known yet). Not an absl code: inside attrib it is
  # unavailable with a payload (common/not_primary.h).
  notPrimary @17;
}

# --------------------------------------------------------------------- Values

struct Connection {
  shop @0 :UInt64;
  canonicalEmail @1 :Text;
  enteredEmail @2 :Text;     # As entered (trimmed), for display and export.
  affiliate @3 :UInt64;
  source @4 :Source;
  connectedAt @5 :Int64;     # ms since epoch.
  name @6 :Text;             # Empty when not given.
  orderCount @7 :UInt32;     # Counted, not reversed, orders.
  lastOrderAt @8 :Int64;     # ms since epoch; 0 = no counted order.
  # The customer's primary key is an external id (issue 12): canonicalEmail and
  # enteredEmail are then empty.
  externalId @9 :Text;
}

struct Status {
  activity @0 :Activity;
  expiresAt @1 :Int64;        # 0 = no time limit.
  ordersRemaining @2 :UInt32; # Meaningful when the shop caps orders.
}

struct Settings {
  connectionsEnabled @0 :Bool = true;
  autoConnect @1 :Bool;
  autoConnectNewCustomersOnly @2 :Bool;
  validityDays @3 :UInt32;          # 0 = forever. At most 36500.
  validityMode @4 :ValidityMode;
  validityMaxOrders @5 :UInt32;     # 0 = unlimited.
  precedence @6 :Precedence;
  # The affiliate directory's rules.
  requireRegisteredAffiliates @7 :Bool;
  blockSelfReferrals @8 :Bool = true;
  onCustomerBecomesAffiliate @9 :CustomerBecomesAffiliate;
  # Customer identifiers (issue 12).
  autoLinkIdentifiers @10 :Bool = true;
  mergeConflict @11 :MergeConflict;
  # The customer directory (issue 12): remember every customer seen.
  customerDirectory @12 :Bool = true;
}

# A partial update: every field is either kept or set.
struct SettingsPatch {
  connectionsEnabled :union { keep @0 :Void; set @1 :Bool; }
  autoConnect :union { keep @2 :Void; set @3 :Bool; }
  autoConnectNewCustomersOnly :union { keep @4 :Void; set @5 :Bool; }
  validityDays :union { keep @6 :Void; set @7 :UInt32; }
  validityMode :union { keep @8 :Void; set @9 :ValidityMode; }
  validityMaxOrders :union { keep @10 :Void; set @11 :UInt32; }
  precedence :union { keep @12 :Void; set @13 :Precedence; }
  requireRegisteredAffiliates :union { keep @14 :Void; set @15 :Bool; }
  blockSelfReferrals :union { keep @16 :Void; set @17 :Bool; }
  onCustomerBecomesAffiliate :union { keep @18 :Void; set @19 :CustomerBecomesAffiliate; }
  autoLinkIdentifiers :union { keep @20 :Void; set @21 :Bool; }
  mergeConflict :union { keep @22 :Void; set @23 :MergeConflict; }
  customerDirectory :union { keep @24 :Void; set @25 :Bool; }
}

struct Decision {
  orderId @0 :Text;
  orderedAt @1 :Int64;             # The time the rules were evaluated at.
  affiliate @2 :UInt64;            # 0 = no affiliate credited.
  reason @3 :Reason;
  connectionActivity @4 :Activity; # An existing connection that did not count: why.
  counted @5 :Bool;                # Counted against a connection.
  connectionCreated @6 :Bool;
  connectionMoved @7 :Bool;
  previousAffiliate @8 :UInt64;
  canonicalEmail @9 :Text;         # Empty when the order had no email.
  reversed @10 :Bool;
  referralRefused @11 :ReferralRefusal;  # Why the referral affiliate was not credited.
  refusedAffiliate @12 :UInt64;    # The affiliate a directory rule refused (0: none).
  orderNumberInConnection @13 :UInt32;  # 1 = the connection's first counted order; 0 = not counted.
  newCustomerSource @14 :NewCustomerSource;  # Where customerIsNew came from.
  orderNumberForCustomer @15 :UInt32;  # Among the customer's orders seen: 1 = first; 0 = no directory.
}

# An entry of a shop's affiliate directory.
struct Affiliate {
  shop @0 :UInt64;
  id @1 :UInt64;
  name @2 :Text;
  emails @3 :List(Text);      # Canonical; at most 8.
  status @4 :AffiliateStatus;
  createdAt @5 :Int64;        # ms since epoch.
  connections @6 :UInt64;     # Connected customers (get and search results).
}

# --------------------------------------------------------------------- Requests

struct ConnectRequest {
  shop @0 :UInt64;
  email @1 :Text;
  affiliate @2 :UInt64;
  source @3 :Source = api;
  mode @4 :ConnectMode;
  connectedAt @5 :Int64;   # 0 = now.
  name @6 :Text;           # Not set (null): keep the replaced connection's name.
  externalId @7 :Text;     # Issue 12: the customer by external id (email may be empty).
}

struct LookupRequest {
  shop @0 :UInt64;
  email @1 :Text;
  at @2 :Int64;            # 0 = now.
  externalId @3 :Text;     # Issue 12: the customer by external id (email may be empty).
}

struct LookupBatchRequest {
  shop @0 :UInt64;
  emails @1 :List(Text);   # At most 10,000.
  at @2 :Int64;            # 0 = now.
}

struct ListRequest {
  shop @0 :UInt64;
  affiliate @1 :UInt64;    # 0 = any.
  emailPrefix @2 :Text;    # Of the canonical email; ASCII case-insensitive.
  source :union { any @3 :Void; only @4 :Source; }
  cursor @5 :Text;         # Empty = first page; else a previous nextCursor.
  limit @6 :UInt32;        # 0 = 100; at most 1000.
  at @7 :Int64;            # 0 = now (for each connection's status).
}

struct CountRequest {
  shop @0 :UInt64;
  affiliate @1 :UInt64;    # 0 = the whole shop, with a per-affiliate breakdown.
}

struct AttributeRequest {
  shop @0 :UInt64;
  orderId @1 :Text;              # 1-128 bytes, unique per shop.
  email @2 :Text;                # Empty = the order has no email.
  referralAffiliate @3 :UInt64;  # 0 = no link/coupon.
  customerIsNew @4 :Tristate;
  orderedAt @5 :Int64;           # 0 = now (late webhooks pass the order's time).
  externalId @6 :Text;           # Issue 12; with an email: auto_link_identifiers.
  name @7 :Text;                 # The customer's name for the directory (empty: not given).
}

struct OrderRef {
  shop @0 :UInt64;
  orderId @1 :Text;
}

struct ShopRef {
  shop @0 :UInt64;
}

struct PutSettingsRequest {
  shop @0 :UInt64;
  patch @1 :SettingsPatch;
}

struct PutAffiliateRequest {
  shop @0 :UInt64;
  id @1 :UInt64;
  name @2 :Text;               # Replaces the stored name.
  emails @3 :List(Text);       # As entered; replace the stored ones; at most 8.
  status :union { keep @4 :Void; set @5 :AffiliateStatus; }  # keep: a new one is active.
  createdAt @6 :Int64;         # A new entry: 0 = now. Ignored on update.
}

struct AffiliateRef {
  shop @0 :UInt64;
  id @1 :UInt64;
}

struct SearchAffiliatesRequest {
  shop @0 :UInt64;
  namePrefix @1 :Text;         # ASCII case-insensitive; results in name order.
  email @2 :Text;              # Canonicalized; the affiliate with this email.
  id @3 :UInt64;               # 0 = any.
  status :union { any @4 :Void; only @5 :AffiliateStatus; }
  cursor @6 :Text;             # Empty = first page; else a previous nextCursor.
  limit @7 :UInt32;            # 0 = 100; at most 1000.
}

# A customer by email, external id or both (issue 12).
struct CustomerRequest {
  shop @0 :UInt64;
  email @1 :Text;
  externalId @2 :Text;
}

struct LinkIdentifierRequest {
  customer @0 :CustomerRequest;    # The customer (shop taken from here).
  email @1 :Text;                  # Exactly one of these two: the identifier to link.
  externalId @2 :Text;
}

struct MergeCustomersRequest {
  into @0 :CustomerRequest;        # shop taken from here.
  from @1 :CustomerRequest;
  keep @2 :MergeKeep;              # Both actively connected: which connection stays.
  enum MergeKeep { shopRule @0; into @1; from @2; earliest @3; }
}

# The customer directory (issue 12): search one shop's customers. At most one of
# emailPrefix, namePrefix, externalId (none: all).
struct SearchCustomersRequest {
  shop @0 :UInt64;
  emailPrefix @1 :Text;            # Any of the customer's emails; case-insensitive.
  namePrefix @2 :Text;             # ASCII case-insensitive.
  externalId @3 :Text;             # Exact.
  limit @4 :UInt32;                # 0 = 50; at most 500.
  cursor @5 :Text;                 # Empty = first page; else a previous nextCursor.
}

struct PutCustomerRequest {
  customer @0 :CustomerRequest;    # shop taken from here.
  name @1 :Text;
}

struct AuthRequest {
  token @0 :Text;
}

struct Request {
  id @0 :UInt64;  # Chosen by the client, echoed in the Response.
  union {
    connect @1 :ConnectRequest;
    disconnect @2 :LookupRequest;      # `at` is ignored.
    lookup @3 :LookupRequest;
    lookupBatch @4 :LookupBatchRequest;
    list @5 :ListRequest;
    count @6 :CountRequest;
    getSettings @7 :ShopRef;
    putSettings @8 :PutSettingsRequest;
    attribute @9 :AttributeRequest;
    reverse @10 :OrderRef;
    explain @11 :OrderRef;
    stats @12 :Void;
    snapshot @13 :Void;                # unimplemented until durability exists.
    auth @14 :AuthRequest;
    ping @15 :Void;
    putAffiliate @16 :PutAffiliateRequest;
    getAffiliate @17 :AffiliateRef;
    disableAffiliate @18 :AffiliateRef;   # Enable again with putAffiliate status set active.
    searchAffiliates @19 :SearchAffiliatesRequest;
    getCustomer @20 :CustomerRequest;
    linkIdentifier @21 :LinkIdentifierRequest;
    unlinkIdentifier @22 :CustomerRequest;     # Exactly one of email, externalId.
    mergeCustomers @23 :MergeCustomersRequest;
    promote @25 :PromoteRequest;         # Issue 16: a replica becomes the primary.
    searchCustomers @26 :SearchCustomersRequest;  # Issue 12: the customer directory.
    putCustomer @27 :PutCustomerRequest;       # Sets the directory name.
  }
  # Issue 16, read-your-writes: a read on a replica waits (up to --replica_read_wait)
  # until it has applied this sequence number (a write's Response.seq), else
  # `unavailable`. 0: no wait. Ignored by writes and on a primary.
  minSeq @24 :UInt64;
}

# Manual failover (attribctl promote): a replica stops following and becomes a
# primary of a higher epoch.
struct PromoteRequest {
  force @0 :Bool;          # Promote even if not caught up with what it last heard.
}

# --------------------------------------------------------------------- Responses

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;           # Starts with the field name for invalid arguments.
  currentAffiliate @2 :UInt64; # alreadyExists (already_connected): the current one.
  primary @3 :Text;           # notPrimary: the primary's client address (host:port).
}

struct ConnectResult {
  outcome @0 :Outcome;
  enum Outcome { created @0; unchanged @1; replaced @2; }
  connection @1 :Connection;
  previousAffiliate @2 :UInt64;
  previousActivity @3 :Activity;   # replaced under ifAbsent: why the old one lapsed.
  identity @4 :IdentityChange;     # Email and external id given: what linking did.
}

struct LookupResult {
  found @0 :Bool;
  connection @1 :Connection;
  status @2 :Status;
}

struct BatchItem {
  union {
    result @0 :LookupResult;
    error @1 :Error;                # This email was invalid.
  }
}

struct ListItem {
  connection @0 :Connection;
  status @1 :Status;
}

struct ListResult {
  items @0 :List(ListItem);
  nextCursor @1 :Text;             # Empty: last page.
}

struct AffiliateCount {
  affiliate @0 :UInt64;
  connections @1 :UInt64;
}

struct CountResult {
  connections @0 :UInt64;
  byAffiliate @1 :List(AffiliateCount);  # Whole-shop counts only; largest first.
}

struct AttributeResult {
  decision @0 :Decision;
  duplicate @1 :Bool;              # Seen before: the first decision, nothing changed.
  identity @2 :IdentityChange;     # The order's email and external id: link or merge.
}

# A customer's identifiers and connection (issue 12).
struct Customer {
  shop @0 :UInt64;
  emails @1 :List(Text);           # Canonical.
  externalId @2 :Text;             # Empty: none.
  connected @3 :Bool;
  connection @4 :Connection;       # When connected.
  # The customer directory (issue 12): inDirectory false = no entry.
  inDirectory @5 :Bool;
  name @6 :Text;
  firstOrderAt @7 :Int64;          # 0 with ordersSeen 0: no order seen.
  lastOrderAt @8 :Int64;
  ordersSeen @9 :UInt32;
}

struct Merge {
  survivor @0 :Text;               # Primary keys: an email, or "external_id:ID".
  loser @1 :Text;
  moved @2 :List(Text);            # The loser's identifiers, now the survivor's.
  conflict @3 :Bool;               # Both were active, to different affiliates.
  rule @4 :MergeConflict;
  hasLostConnection @5 :Bool;
  lostConnection @6 :Connection;   # Removed by the merge.
}

struct IdentityChange {
  linked @0 :Bool;
  linkedIdentifier @1 :Text;       # An email, or "external_id:ID".
  merged @2 :Bool;
  merge @3 :Merge;
  notJoined @4 :Text;              # Why two customers were not joined (the rule).
}

struct CustomerList {
  items @0 :List(Customer);
  nextCursor @1 :Text;             # Empty: last page.
}

struct ReverseResult {
  decision @0 :Decision;
  uncounted @1 :Bool;
  alreadyReversed @2 :Bool;
}

struct AffiliateResult {
  affiliate @0 :Affiliate;
  created @1 :Bool;                       # putAffiliate: there was no entry before.
  removedConnections @2 :List(Connection);  # on_customer_becomes_affiliate = disconnect.
}

struct AffiliateList {
  items @0 :List(Affiliate);
  nextCursor @1 :Text;                    # Empty: last page.
}

struct OperationCount {
  operation @0 :Text;              # e.g. "lookup".
  result @1 :Text;                 # "ok" or an error code name.
  count @2 :UInt64;
}

struct StatsResult {
  connections @0 :UInt64;
  rememberedOrders @1 :UInt64;
  openClients @2 :UInt32;
  acceptedClients @3 :UInt64;
  rssBytes @4 :UInt64;
  storeTableBytes @5 :UInt64;
  storeArenaBytes @6 :UInt64;
  operations @7 :List(OperationCount);
  uptimeMs @8 :Int64;
  # Milliseconds the oldest reply still held for durability has waited (0: none
  # waits). Replies wait for the log's fdatasync, normally well under 10 ms; a value
  # that keeps growing means replies are stalled (README "Durability").
  oldestDurabilityWaitMs @9 :Int64;
}

struct Response {
  id @0 :UInt64;  # The Request's id (0 when the request could not be decoded).
  union {
    error @1 :Error;
    connect @2 :ConnectResult;
    disconnect @3 :Connection;     # The removed connection.
    lookup @4 :LookupResult;
    lookupBatch @5 :List(BatchItem);
    list @6 :ListResult;
    count @7 :CountResult;
    settings @8 :Settings;         # getSettings and putSettings.
    attribute @9 :AttributeResult;
    reverse @10 :ReverseResult;
    explain @11 :Decision;
    stats @12 :StatsResult;
    snapshot @13 :Void;
    auth @14 :Void;
    pong @15 :Void;
    affiliate @16 :AffiliateResult;       # putAffiliate, getAffiliate, disableAffiliate.
    affiliateList @17 :AffiliateList;     # searchAffiliates.
    customer @18 :Customer;               # getCustomer, linkIdentifier, unlinkIdentifier, putCustomer.
    merge @19 :IdentityChange;            # mergeCustomers.
    promote @21 :PromoteResult;
    customerList @22 :CustomerList;       # searchCustomers.
  }
  # Issue 16: on a write's reply, the log sequence number the write is durable up to
  # (its own change and any it saw); pass it as Request.minSeq to read it back from a
  # replica. 0 on reads.
  seq @20 :UInt64;
}

struct PromoteResult {
  epoch @0 :UInt64;        # The new primary's epoch (written into its log).
  seq @1 :UInt64;          # The epoch record's sequence number.
  appliedSeq @2 :UInt64;   # What the replica had applied when it stopped following.
  primarySeq @3 :UInt64;   # What it had last heard the old primary had durable.
}
