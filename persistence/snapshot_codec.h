// persistence/snapshot_codec.h
//
// The record encoding of snapshot blocks (layouts in snapshot_format.h): settings,
// owners and remembered orders as compact varint records; connections (version 2)
// as the store's own records after their key hash, or (version 1, read only) as
// varint records. The file framing, checksums and block order are not here
// (snapshot.cc, snapshot_reader.cc).
//
// The encoders run inside SnapshotVisitor callbacks, under engine locks, so they only
// append bytes; the decoder runs once per record at restore time, so it reuses the
// caller's strings (no allocation once they have grown), and a version 2 connection
// is only checked for form and viewed in place.
//
// Thread-safety: functions on caller-owned values; a RecordDecoder belongs to one
// thread.
#ifndef ATTRIB_PERSISTENCE_SNAPSHOT_CODEC_H_
#define ATTRIB_PERSISTENCE_SNAPSHOT_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/canonical_email.h"
#include "engine/engine.h"
#include "engine/order_window.h"
#include "engine/types.h"
#include "persistence/snapshot_format.h"

namespace attrib::persistence::snapshot_codec {

// Each appends one record to *out and returns true; or returns false and appends
// nothing when a string is longer than the format allows (snapshot_format.h), which
// the engine's own limits rule out.
bool AppendSettings(engine::ShopId shop, const engine::ShopSettings& s, std::string* out);
bool AppendConnection(const engine::ConnectionView& c, std::string* out);
bool AppendOrder(const engine::OrderRecord& r, std::string* out);
bool AppendOwner(const engine::OwnerKey& o, std::string* out);
bool AppendAffiliate(const engine::Affiliate& a, std::string* out);
bool AppendWebhookEndpoint(const engine::WebhookEndpoint& e, std::string* out);
// Identity records (version 4): a shop's identity settings, or one customer's
// identifiers (engine::CustomerIdentifiers with at least one alias).
struct IdentityRecord {
  uint8_t kind = kIdentityKindCustomer;
  engine::ShopId shop = 0;
  bool auto_link_identifiers = true;  // kind settings.
  engine::MergeConflictRule merge_conflict = engine::MergeConflictRule::kKeepEarliest;
  bool customer_directory = true;        // kind settings (version 5).
  engine::CustomerIdentifiers customer;  // kind customer.
};
bool AppendIdentity(const IdentityRecord& r, std::string* out);
// A customer directory record (version 5).
bool AppendCustomerEntry(engine::ShopId shop, absl::string_view key,
                         const engine::CustomerEntry& e, std::string* out);
// A version 2 connection record: the key hash, then the store's record verbatim.
bool AppendEncodedConnection(const engine::EncodedConnection& c, std::string* out);

// The Connection a version 2 record holds (a view from ReadEncodedConnection), its
// owner looked up in `owners` and a derived canonical email computed under
// `policy`; false with *error set when the canonical email cannot be derived.
bool DecodeEncodedConnection(absl::string_view record,
                             absl::Span<const engine::OwnerKey> owners,
                             engine::EmailPolicy policy, engine::Connection* c,
                             std::string* error);

// A view of a Connection, for encoding one that is not in an engine (tests, tools).
engine::ConnectionView ViewOf(const engine::Connection& c);

// Reads the records of one block body (the bytes after the sub-header).
class RecordDecoder {
 public:
  // `version`: the file's format version (settings and order records grew in 3).
  explicit RecordDecoder(absl::string_view records, uint32_t version = kSnapshotVersion)
      : p_(records.data()),
        begin_(records.data()),
        end_(records.data() + records.size()),
        version_(version) {}

  bool done() const { return p_ == end_; }
  // Bytes consumed so far: the offset of the next record within the records.
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  // Each reads one record into its output, or returns false with error() naming
  // what is wrong (the position is then unspecified).
  bool ReadSettings(engine::ShopId* shop, engine::ShopSettings* s);
  bool ReadConnection(engine::Connection* c);
  bool ReadOrder(engine::OrderRecord* r);
  bool ReadOwner(engine::OwnerKey* o);
  bool ReadAffiliate(engine::Affiliate* a);
  bool ReadWebhookEndpoint(engine::WebhookEndpoint* e);
  bool ReadIdentity(IdentityRecord* r);
  bool ReadCustomerEntry(engine::ShopId* shop, std::string* key, engine::CustomerEntry* e);
  // A version 2 connection record, checked for form: flags, every length within
  // the block, no empty string, owner index < `owner_count`. *record views the
  // store's record (after the hash) in the block's bytes. No copy, no allocation:
  // the restart's hot loop.
  bool ReadEncodedConnection(uint32_t owner_count, uint64_t* key_hash,
                             absl::string_view* record);
  const char* error() const { return error_; }

 private:
  bool Fail(const char* why) {
    error_ = why;
    return false;
  }
  bool Varint(uint64_t* v);
  bool Varint32(uint32_t* v);
  bool ZigZag(int64_t* v);
  bool Byte(uint8_t* v);
  bool String(size_t limit, std::string* s);

  const char* p_;
  const char* const begin_;
  const char* const end_;
  const uint32_t version_;
  const char* error_ = "";
};

}  // namespace attrib::persistence::snapshot_codec

#endif  // ATTRIB_PERSISTENCE_SNAPSHOT_CODEC_H_
