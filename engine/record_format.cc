// engine/record_format.cc: encoding of a connection record (format in the header).
#include "engine/record_format.h"

namespace attrib::engine::record {

void Encode(const Fields& f, char* p) {
  uint8_t flags = static_cast<uint8_t>(f.source) & kSourceMask;
  if (!f.name.empty()) flags |= kHasName;
  if (f.store_canonical) flags |= kCanonicalStored;
  if (f.entered_is_canonical) flags |= kEnteredIsCanonical;
  p[kOffFlags] = static_cast<char>(flags);
  Store32(p + kOffOwner, f.owner);
  Store48(p + kOffConnectedAt, f.connected_at);
  Store48(p + kOffLastOrderAt, f.last_order_at);
  Store32(p + kOffOrderCount, f.order_count);
  p[kOffEnteredLen] = static_cast<char>(f.entered.size());
  char* q = p + kHeaderBytes;
  std::memcpy(q, f.entered.data(), f.entered.size());
  q += f.entered.size();
  if (f.store_canonical) {
    *q++ = static_cast<char>(f.canonical.size());
    std::memcpy(q, f.canonical.data(), f.canonical.size());
    q += f.canonical.size();
  }
  if (!f.name.empty()) {
    *q++ = static_cast<char>(f.name.size());
    std::memcpy(q, f.name.data(), f.name.size());
  }
}

}  // namespace attrib::engine::record
