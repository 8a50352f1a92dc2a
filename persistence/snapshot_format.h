// persistence/snapshot_format.h
//
// The snapshot file's on-disk format, defined once here. All fixed-width integers
// are little-endian; "varint" is unsigned LEB128 (at most 10 bytes); "zvarint" is a
// zigzag-encoded signed varint. Records are encoded by snapshot_codec.h; the file is
// written by WriteSnapshot() and read by snapshot_reader.h (snapshot.h is the API).
//
// A snapshot is the whole engine state (settings, the affiliate directory,
// connections, remembered orders)
// captured piece by piece while writes continue (engine.h, SnapshotFences). It lives
// in DATA/snapshots/snap-<oldest fence, 20 digits>.snap; the log must be replayed
// from the records with seq > that number, each part applied only if newer than its
// piece's fence. A snapshot under construction is snap-<settings fence>.snap.tmp.
//
//   Header (kSnapshotHeaderBytes = 48):
//     offset size  field
//     0      8     magic "ATRBSNP1"
//     8      4     format version (kSnapshotVersion)
//     12     1     email policy (engine::EmailPolicy value)
//     13     3     reserved, zero
//     16     4     connection shard count
//     20     4     order shard count
//     24     8     created_at (ms since the epoch, signed)
//     32     8     settings fence
//     40     4     reserved, zero
//     44     4     masked CRC32C of bytes [0, 44)
//
//   Then blocks, each framed (kBlockFrameBytes = 8, then the body):
//     0      4     body length N (1 <= N <= kMaxBlockBytes)
//     4      4     masked CRC32C of the N body bytes
//     8      N     body: a type byte, a fixed sub-header, then records
//
//   Block bodies (sub-header offsets from the start of the body):
//     settings    (kSettingsSubHeaderBytes = 5):
//                   0 u8 type = 1 | 1 u32 record count | settings records
//     connections (kConnectionSubHeaderBytes = 17):
//                   0 u8 type = 2 | 1 u32 shard index | 5 u64 fence |
//                   13 u32 record count | connection records
//     affiliates  (kAffiliateSubHeaderBytes = 13; version 3):
//                   0 u8 type = 6 | 1 u64 fence | 9 u32 record count |
//                   affiliate records
//     webhooks    (kAffiliateSubHeaderBytes = 13; version 4; after the affiliates
//                 and identities):
//                   0 u8 type = 8 | 1 u64 fence | 9 u32 record count |
//                   webhook endpoint records
//     customers   (kAffiliateSubHeaderBytes = 13; version 5; after the webhooks):
//                   0 u8 type = 9 | 1 u64 fence | 9 u32 record count |
//                   customer directory records
//     identities  (kIdentitySubHeaderBytes = 13; version 4):
//                   0 u8 type = 7 | 1 u64 fence | 9 u32 record count |
//                   identity records
//     owners      (kOwnerSubHeaderBytes = 9; version 2 and later):
//                   0 u8 type = 5 | 1 u32 index of the block's first owner |
//                   5 u32 record count | owner records
//     orders      (kOrderSubHeaderBytes = 25):
//                   0 u8 type = 3 | 1 u32 shard index | 5 u64 fence |
//                   13 i64 shard high-water mark | 21 u32 record count |
//                   order records, in the shard's retention (FIFO) order
//     trailer     (kTrailerBodyBytes = 53):
//                   0 u8 type = 4 | 1 u64 settings count | 9 u64 connection count |
//                   17 u64 order count | 25 u64 data blocks before the trailer |
//                   33 u64 oldest fence | 41 u64 newest fence |
//                   49 u32 masked chain CRC
//
//   The chain CRC is the CRC32C of the 48 header bytes followed by the 8 frame bytes
//   (length, masked CRC) of every data block, in file order. Each frame's CRC covers
//   its body, so the chain binds every byte of the file and the order of the blocks
//   (FIFO order of an order shard spans blocks); the trailer's own frame CRC covers
//   the chain. Computing it costs 8 bytes per block, not a second pass over the data.
//
//   Records (every field of engine::Connection / OrderRecord / ShopSettings):
//     settings:   varint shop | u8 bits (0 connections_enabled, 1 auto_connect,
//                 2 auto_connect_new_customers_only, 3 validity_mode, 4-5 precedence)
//                 | varint validity_days | varint validity_max_orders
//                 | version 3: u8 bits (0 require_registered_affiliates,
//                   1 block_self_referrals, 2 on_customer_becomes_affiliate
//                   disconnect); older versions: the defaults (false, true, keep)
//     affiliate:  varint shop | varint id (both >= 1) | string name | u8 status
//                 (AffiliateStatus) | zvarint created_at | u8 email count (<= 8)
//                 | that many strings (canonical emails, non-empty)
//     webhook:    varint length | that many bytes: the endpoint as one log
//                 PutWebhookEndpoint mutation (persistence/mutation_codec.h, tag 18),
//                 so the two encodings of an endpoint are one
//     identity:   u8 kind, then by kind (engine/identity_index.h; version 4):
//                 1 settings: varint shop | u8 bits (0 auto_link_identifiers;
//                   version 5: 1 customer_directory OFF)
//                   | u8 merge_conflict (MergeConflictRule); only for shops whose
//                   identity settings differ from the defaults (on, keep_earliest);
//                   they belong to the settings capture (settings fence)
//                 2 customer: varint shop | string primary | u8 alias count (1-8)
//                   | that many strings (identifier keys: a canonical email, or
//                   0x01 + external id; non-empty, distinct from the primary)
//                 Older versions: no identities (every customer has one
//                 identifier) and the identity settings' defaults.
//     customer:   varint shop (>= 1) | string key (the customer's primary key,
//                 non-empty) | string name | zvarint first_order_at
//                 | zvarint last_order_at | varint orders_seen (u32); version 5
//                 (engine/customer_directory.h). Older versions: no directory.
//     owner:      varint shop | varint affiliate (both >= 1)
//     connection, version 2: the store's own record (engine/record_format.h) after
//                 its key hash, so a restore copies it instead of re-encoding it and
//                 never canonicalizes or hashes (static_asserts below pin the layout:
//                 changing record_format.h needs a new version here):
//                   0  u64 key hash: engine::KeyHash(shop, canonical email); its top
//                      log2(connection shards) bits are the block's shard index
//                   8  u8  flags: 0-1 source, 2 has name, 3 canonical stored,
//                          4 entered email == canonical; 5-7 zero; not both 3 and 4
//                   9  u32 owner: index into the owner records (shop, affiliate)
//                   13 u48 connected_at | 19 u48 last_order_at (ms, unsigned)
//                   25 u32 order_count
//                   29 u8  entered length E >= 1 | 30 E bytes: the email as entered
//                   [u8 length C >= 1, C bytes: the canonical email, if bit 3]
//                   [u8 length N >= 1, N bytes: the name, if bit 2]
//                 Without bit 3 the canonical email is derived from the entered one
//                 (engine::CanonicalizeInto under the header's email policy).
//     connection, version 1 (read only):
//                 u8 bits (0-1 source, 2 has name, 3 entered email == canonical)
//                 | varint shop | varint affiliate | zvarint connected_at
//                 | zvarint last_order_at | varint order_count | string canonical
//                 | [string entered, unless bit 3] | [string name, if bit 2]
//     order:      u8 bits (0-1 reason, 2-3 connection_inactive, 4 counted,
//                 5 connection_created, 6 connection_moved, 7 reversed)
//                 | varint shop | string order_id | zvarint ordered_at
//                 | varint affiliate | varint previous_affiliate
//                 | string canonical_email | varint counted_affiliate
//                 | zvarint counted_connected_at | zvarint prev_last_order_at
//                 | zvarint retain_mark
//                 | version 3: u8 connection_inactive (the whole InactiveReason;
//                   bits 2-3 above are then zero) | u8 referral_refused
//                   | varint refused_affiliate | varint order_number_in_connection;
//                   reason may be 3 (self_referral). Older versions: 0 for these
//                   (an order decided before the upgrade reports number 0).
//                 | version 5: u8 new_customer_source (NewCustomerSource)
//                   | varint order_number_for_customer; older: 0 (unknown), 0.
//     A string is a varint length then the bytes. Unused bits are zero.
//
// Invariants (the reader checks each; a violation is DataLoss naming file and offset):
//  - Block order: settings blocks (zero or more), then (version 3) affiliate blocks
//    (zero or more, one fence: the directory's), then (version 4) identity blocks
//    (zero or more, one fence: the identifier index's), then (version 4) webhook
//    blocks, then (version 5) customer blocks (zero or more, one fence: the
//    directory's), then connection blocks of shards
//    0, 1, ..., n-1, then (version 2) owner blocks (zero or more), then order blocks
//    of shards 0, ..., m-1, then one trailer, then end of file. Every shard has at
//    least one block (an empty shard has one block with no records: the block
//    carries the shard's fence); a shard's blocks are consecutive and agree on fence
//    (and, for orders, high-water mark). Owner blocks number their owners 0, 1, ...
//    without a gap; every connection record's owner index is below their total.
//  - Version 2 writes the owner list after the connection shards because the
//    engine's owner indexes are only appended while writes go on: the list taken
//    last covers every index a shard copied earlier holds.
//  - A version 2 key hash is its record's KeyHash. LoadSnapshot trusts it (the
//    checksums protect what the writer computed; it checks form, owner and shard
//    only); ReadSnapshotInfo derives every key and checks it.
//  - A record never spans two blocks; a block's records fill its body exactly and
//    number exactly its record count.
//  - The trailer's counts equal the sums of the blocks' record counts (owners are
//    not counted there), its block count is the number of data blocks (owner blocks
//    included), its fences are the min and max over the settings fence and every
//    shard fence (and the affiliate fence, when there are affiliate blocks).
//  - The file is never visible under its final name before it is complete and synced
//    (temp file, Sync, rename, SyncDir), so a partial file under a final name is
//    corruption, not a crash artefact.
//
// Thread-safety: constants and pure functions.
#ifndef ATTRIB_PERSISTENCE_SNAPSHOT_FORMAT_H_
#define ATTRIB_PERSISTENCE_SNAPSHOT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/record_format.h"

namespace attrib::persistence {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the snapshot codec stores integers with memcpy");

inline constexpr char kSnapshotMagic[8] = {'A', 'T', 'R', 'B', 'S', 'N', 'P', '1'};
// The version written; a reader accepts kOldestReadableSnapshotVersion through it
// and rejects any other with a message naming both.
inline constexpr uint32_t kSnapshotVersion = 5;
inline constexpr uint32_t kOldestReadableSnapshotVersion = 1;
inline constexpr size_t kSnapshotHeaderBytes = 48;
inline constexpr size_t kSnapshotHeaderCrcOffset = 44;
static_assert(kSnapshotHeaderCrcOffset + 4 == kSnapshotHeaderBytes);

inline constexpr size_t kBlockFrameBytes = 8;
inline constexpr uint32_t kMaxBlockBytes = 1 << 20;
// The writer closes a block once its body reaches this size. Large enough that the
// frame costs nothing, small enough that a damaged block loses little and a reader
// never needs more than a MiB in hand.
inline constexpr uint32_t kTargetBlockBytes = 256 << 10;
// Upper bound of one encoded record of any kind (see the string limits below).
inline constexpr size_t kMaxRecordBytes = 4096;
static_assert(kTargetBlockBytes + kMaxRecordBytes <= kMaxBlockBytes,
              "a record started below the target always fits in the block");

enum class SnapshotBlockType : uint8_t {
  kSettings = 1,
  kConnections = 2,
  kOrders = 3,
  kTrailer = 4,
  kOwners = 5,      // Version 2.
  kAffiliates = 6,  // Version 3.
  kIdentities = 7,  // Version 4.
  kWebhooks = 8,    // Version 4: the webhook endpoints (sub-header as affiliates).
  kCustomers = 9,   // Version 5: the customer directory (sub-header as affiliates).
};

inline constexpr size_t kSettingsSubHeaderBytes = 5;
inline constexpr size_t kSettingsCountOffset = 1;
inline constexpr size_t kConnectionSubHeaderBytes = 17;
inline constexpr size_t kConnectionCountOffset = 13;
inline constexpr size_t kOwnerSubHeaderBytes = 9;
inline constexpr size_t kOwnerFirstOffset = 1;
inline constexpr size_t kOwnerCountOffset = 5;
inline constexpr size_t kAffiliateSubHeaderBytes = 13;
inline constexpr size_t kAffiliateFenceOffset = 1;
inline constexpr size_t kAffiliateCountOffset = 9;
static_assert(kAffiliateCountOffset + 4 == kAffiliateSubHeaderBytes);
inline constexpr size_t kIdentitySubHeaderBytes = 13;
inline constexpr size_t kIdentityFenceOffset = 1;
inline constexpr size_t kIdentityCountOffset = 9;
static_assert(kIdentityCountOffset + 4 == kIdentitySubHeaderBytes);
inline constexpr uint8_t kIdentityKindSettings = 1;
inline constexpr uint8_t kIdentityKindCustomer = 2;
inline constexpr size_t kOrderSubHeaderBytes = 25;
inline constexpr size_t kOrderCountOffset = 21;
inline constexpr size_t kTrailerBodyBytes = 53;
inline constexpr size_t kTrailerChainOffset = 49;
static_assert(kSettingsCountOffset + 4 == kSettingsSubHeaderBytes);
static_assert(kConnectionCountOffset + 4 == kConnectionSubHeaderBytes);
static_assert(kOrderCountOffset + 4 == kOrderSubHeaderBytes);
static_assert(kOwnerCountOffset + 4 == kOwnerSubHeaderBytes);
static_assert(kOwnerSubHeaderBytes <= kOrderSubHeaderBytes, "the writer's sub-header buffer");
static_assert(kTrailerChainOffset + 4 == kTrailerBodyBytes);

// String limits of the record encoding. Connection strings (version 1 records) are
// held in memory with a one-byte length (engine/record_format.h); order strings have
// no in-memory limit but the engine caps them far lower (kMaxOrderIdBytes, an email).
inline constexpr size_t kMaxConnectionStringBytes = 255;
inline constexpr size_t kMaxOrderStringBytes = 1024;
static_assert(1 + 5 * 10 + 3 * (2 + kMaxConnectionStringBytes) <= kMaxRecordBytes);
static_assert(1 + 10 * 9 + 2 * (2 + kMaxOrderStringBytes) <= kMaxRecordBytes);

// Connection record bits, version 1.
inline constexpr uint8_t kConnSourceMask = 0x03;
inline constexpr uint8_t kConnHasName = 0x04;
inline constexpr uint8_t kConnEnteredIsCanonical = 0x08;
inline constexpr uint8_t kConnUnusedBits = 0xF0;

// Connection records, version 2: the key hash, then engine/record_format.h.
inline constexpr size_t kEncodedHashBytes = 8;
inline constexpr size_t kEncodedHeaderBytes = 22;  // After the hash.
inline constexpr size_t kEncodedOwnerOffset = 1;   // From the record (after the hash).
inline constexpr size_t kEncodedEnteredLengthOffset = 21;
inline constexpr uint8_t kEncodedSourceMask = 0x03;
inline constexpr uint8_t kEncodedHasName = 0x04;
inline constexpr uint8_t kEncodedCanonicalStored = 0x08;
inline constexpr uint8_t kEncodedEnteredIsCanonical = 0x10;
inline constexpr uint8_t kEncodedUnusedBits = 0xE0;
static_assert(kEncodedHeaderBytes == engine::record::kHeaderBytes &&
                  kEncodedOwnerOffset == engine::record::kOffOwner &&
                  kEncodedEnteredLengthOffset == engine::record::kOffEnteredLen &&
                  engine::record::kOffConnectedAt == 5 && engine::record::kOffLastOrderAt == 11 &&
                  engine::record::kOffOrderCount == 17 && engine::record::kOffFlags == 0,
              "the store's record layout changed: bump kSnapshotVersion and keep reading "
              "version 2 records");
static_assert(kEncodedSourceMask == engine::record::kSourceMask &&
                  kEncodedHasName == engine::record::kHasName &&
                  kEncodedCanonicalStored == engine::record::kCanonicalStored &&
                  kEncodedEnteredIsCanonical == engine::record::kEnteredIsCanonical &&
                  (kEncodedUnusedBits & engine::record::kDead) != 0,
              "the store's record flags changed: bump kSnapshotVersion");
static_assert(kEncodedHashBytes + engine::record::kMaxRecordBytes <= kMaxRecordBytes);

inline constexpr absl::string_view kSnapshotPrefix = "snap-";
inline constexpr absl::string_view kSnapshotSuffix = ".snap";
inline constexpr absl::string_view kSnapshotTempSuffix = ".snap.tmp";

struct SnapshotHeader {
  uint32_t version = kSnapshotVersion;
  uint8_t email_policy = 0;
  uint32_t connection_shards = 0;
  uint32_t order_shards = 0;
  int64_t created_at_ms = 0;
  uint64_t settings_fence = 0;
};

// The 48 header bytes.
std::string EncodeSnapshotHeader(const SnapshotHeader& h);
// DataLoss naming what is wrong (size, magic, checksum, version, reserved bytes);
// the caller adds the file name.
absl::StatusOr<SnapshotHeader> DecodeSnapshotHeader(absl::string_view bytes);

// "snap-00000000000000000042.snap" for fence 42; ParseSnapshotName is its inverse
// (and rejects temp names).
std::string SnapshotName(uint64_t oldest_fence);
std::string SnapshotTempName(uint64_t fence);
bool ParseSnapshotName(absl::string_view name, uint64_t* oldest_fence);
bool IsSnapshotTempName(absl::string_view name);

// Fixed-width little-endian helpers shared by the snapshot code.
namespace snapshot_internal {
inline void Put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void Put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint32_t Get32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t Get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
}  // namespace snapshot_internal

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_SNAPSHOT_FORMAT_H_
