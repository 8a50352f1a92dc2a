// persistence/snapshot_codec.h
//
// The record encoding of snapshot blocks (layouts in snapshot_format.h): settings,
// connections and remembered orders as compact varint records. The file framing,
// checksums and block order are not here (snapshot.cc, snapshot_reader.cc).
//
// The encoders run inside SnapshotVisitor callbacks, under engine locks, so they only
// append bytes; the decoder runs once per record at restore time, so it reuses the
// caller's strings (no allocation once they have grown).
//
// Thread-safety: functions on caller-owned values; a RecordDecoder belongs to one
// thread.
#ifndef ATTRIB_PERSISTENCE_SNAPSHOT_CODEC_H_
#define ATTRIB_PERSISTENCE_SNAPSHOT_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "engine/order_window.h"
#include "engine/types.h"

namespace attrib::persistence::snapshot_codec {

// Each appends one record to *out and returns true; or returns false and appends
// nothing when a string is longer than the format allows (snapshot_format.h), which
// the engine's own limits rule out.
bool AppendSettings(engine::ShopId shop, const engine::ShopSettings& s, std::string* out);
bool AppendConnection(const engine::ConnectionView& c, std::string* out);
bool AppendOrder(const engine::OrderRecord& r, std::string* out);

// A view of a Connection, for encoding one that is not in an engine (tests, tools).
engine::ConnectionView ViewOf(const engine::Connection& c);

// Reads the records of one block body (the bytes after the sub-header).
class RecordDecoder {
 public:
  explicit RecordDecoder(absl::string_view records)
      : p_(records.data()), begin_(records.data()), end_(records.data() + records.size()) {}

  bool done() const { return p_ == end_; }
  // Bytes consumed so far: the offset of the next record within the records.
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  // Each reads one record into its output, or returns false with error() naming
  // what is wrong (the position is then unspecified).
  bool ReadSettings(engine::ShopId* shop, engine::ShopSettings* s);
  bool ReadConnection(engine::Connection* c);
  bool ReadOrder(engine::OrderRecord* r);
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
  const char* error_ = "";
};

}  // namespace attrib::persistence::snapshot_codec

#endif  // ATTRIB_PERSISTENCE_SNAPSHOT_CODEC_H_
