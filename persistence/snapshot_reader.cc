// persistence/snapshot_reader.cc: verification and indexing of a snapshot file (see
// snapshot_reader.h; the format is in snapshot_format.h).
#include "persistence/snapshot_reader.h"

#include <algorithm>
#include <initializer_list>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "persistence/crc32c.h"

namespace attrib::persistence {
namespace {

using snapshot_internal::Get32;
using snapshot_internal::Get64;

// Shard counts the engine accepts (a power of two in [1, 65536]); anything else in
// a header whose checksum holds is a bug or a hostile file, and must not size our
// vectors.
bool ValidShardCount(uint32_t n) { return n >= 1 && n <= 65536 && (n & (n - 1)) == 0; }

absl::string_view TypeName(SnapshotBlockType t) {
  switch (t) {
    case SnapshotBlockType::kSettings:
      return "settings";
    case SnapshotBlockType::kConnections:
      return "connections";
    case SnapshotBlockType::kOrders:
      return "orders";
    case SnapshotBlockType::kTrailer:
      return "trailer";
    case SnapshotBlockType::kOwners:
      return "owners";
    case SnapshotBlockType::kAffiliates:
      return "affiliates";
    case SnapshotBlockType::kWebhooks:
      return "webhooks";
    case SnapshotBlockType::kIdentities:
      return "identities";
    case SnapshotBlockType::kCustomers:
      return "customers";
  }
  return "unknown";
}

// Walks the blocks in file order and checks the block-order invariants.
class Indexer {
 public:
  Indexer(absl::string_view name, absl::string_view bytes) : bytes_(bytes) {
    index_.name = std::string(name);
    index_.bytes = bytes.size();
  }

  absl::StatusOr<SnapshotIndex> Run(int threads) {
    absl::StatusOr<SnapshotHeader> header = DecodeSnapshotHeader(bytes_);
    if (!header.ok()) return Error(header.status().message());
    index_.header = *header;
    if (!ValidShardCount(header->connection_shards) ||
        !ValidShardCount(header->order_shards)) {
      return Error(absl::StrCat("header at offset 0: shard counts ",
                                header->connection_shards, " and ", header->order_shards,
                                " (each must be a power of two in [1, 65536])"));
    }
    while ((uint32_t{1} << index_.connection_shard_bits) < header->connection_shards) {
      ++index_.connection_shard_bits;
    }
    index_.fences.settings = header->settings_fence;
    index_.fences.connection_shards.assign(header->connection_shards, 0);
    index_.fences.order_shards.assign(header->order_shards, 0);
    index_.connection_shards.assign(header->connection_shards, {0, 0});
    index_.order_shards.assign(header->order_shards, {0, 0});

    // 1. The frames, to the end of the file: lengths only, nothing of a body is
    //    trusted yet. A frame that does not fit is named only if no block before
    //    it fails its checksum (a damaged length misframes everything after it).
    std::vector<uint64_t> frames;  // Offsets of the blocks' frames.
    absl::Status framing;
    for (uint64_t offset = kSnapshotHeaderBytes; offset != bytes_.size();) {
      if (bytes_.size() - offset < kBlockFrameBytes) {
        framing = Error(absl::StrCat("truncated at offset ", bytes_.size(),
                                     " (the block frame at offset ", offset,
                                     " is incomplete)"));
        break;
      }
      const uint32_t length = Get32(bytes_.data() + offset);
      if (length == 0 || length > kMaxBlockBytes) {
        framing = Error(absl::StrCat("block at offset ", offset, ": bad length ", length,
                                     " (at most ", kMaxBlockBytes, ")"));
        break;
      }
      if (bytes_.size() - offset - kBlockFrameBytes < length) {
        framing = Error(absl::StrCat("truncated at offset ", bytes_.size(),
                                     " (the block at offset ", offset, " needs ",
                                     kBlockFrameBytes + length, " bytes)"));
        break;
      }
      frames.push_back(offset);
      offset += kBlockFrameBytes + length;
      // The trailer ends the blocks (if this type byte is damaged, the checksum
      // below says so): what follows it is reported after the checksums.
      const auto type = static_cast<SnapshotBlockType>(bytes_[offset - length]);
      if (type == SnapshotBlockType::kTrailer) break;
    }
    // 2. Every block's checksum, in parallel.
    if (absl::Status s = CheckBlockCrcs(frames, threads); !s.ok()) return s;
    if (!framing.ok()) return framing;
    // 3. The structure, in file order.
    chain_ = Crc32c(bytes_.data(), kSnapshotHeaderBytes);
    for (size_t i = 0; i < frames.size(); ++i) {
      const uint64_t offset = frames[i];
      const char* frame = bytes_.data() + offset;
      const absl::string_view body(frame + kBlockFrameBytes, Get32(frame));
      if (static_cast<SnapshotBlockType>(body[0]) == SnapshotBlockType::kTrailer) {
        if (absl::Status s = Trailer(offset, body); !s.ok()) return s;
        const uint64_t next = offset + kBlockFrameBytes + body.size();
        if (next != bytes_.size()) {
          return Error(absl::StrCat(bytes_.size() - next, " unexpected bytes at offset ", next,
                                    ", after the trailer"));
        }
        return std::move(index_);
      }
      if (absl::Status s = DataBlock(offset, body); !s.ok()) return s;
      chain_ = Crc32c(frame, kBlockFrameBytes, chain_);
    }
    return Error(absl::StrCat("trailer missing (the file ends at offset ", bytes_.size(),
                              " after ", index_.blocks.size(), " blocks)"));
  }

 private:
  // DataLoss naming the first block (in file order) whose body fails its checksum.
  absl::Status CheckBlockCrcs(const std::vector<uint64_t>& frames, int threads) const {
    std::atomic<size_t> next{0};
    std::atomic<size_t> first_bad{frames.size()};
    const auto worker = [&] {
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < frames.size();) {
        if (i > first_bad.load(std::memory_order_relaxed)) break;  // A lower one failed.
        const char* frame = bytes_.data() + frames[i];
        if (UnmaskCrc(Get32(frame + 4)) != Crc32c(frame + kBlockFrameBytes, Get32(frame))) {
          size_t seen = first_bad.load();
          while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
          }
        }
      }
    };
    std::vector<std::thread> pool;
    const size_t extra = std::min<size_t>(std::max(threads, 1) - 1, frames.size() / 8);
    for (size_t t = 0; t < extra; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    if (first_bad.load() == frames.size()) return absl::OkStatus();
    return BlockError(frames[first_bad.load()], "checksum mismatch");
  }

  absl::Status Error(absl::string_view what) const {
    return absl::DataLossError(absl::StrCat("snapshot ", index_.name, ": ", what));
  }
  absl::Status BlockError(uint64_t offset, absl::string_view what) const {
    return Error(absl::StrCat("block at offset ", offset, ": ", what));
  }

  absl::Status DataBlock(uint64_t offset, absl::string_view body) {
    SnapshotBlock b;
    b.offset = offset;
    b.type = static_cast<SnapshotBlockType>(body[0]);
    size_t sub = 0;
    switch (b.type) {
      case SnapshotBlockType::kSettings:
        sub = kSettingsSubHeaderBytes;
        break;
      case SnapshotBlockType::kConnections:
        sub = kConnectionSubHeaderBytes;
        break;
      case SnapshotBlockType::kOrders:
        sub = kOrderSubHeaderBytes;
        break;
      case SnapshotBlockType::kOwners:
        if (index_.header.version < 2) {
          return BlockError(offset, "owners block in a version 1 snapshot");
        }
        sub = kOwnerSubHeaderBytes;
        break;
      case SnapshotBlockType::kAffiliates:
        if (index_.header.version < 3) {
          return BlockError(offset, absl::StrCat("affiliates block in a version ",
                                                 index_.header.version, " snapshot"));
        }
        sub = kAffiliateSubHeaderBytes;
        break;
      case SnapshotBlockType::kWebhooks:
        if (index_.header.version < 4) {
          return BlockError(offset, absl::StrCat("webhooks block in a version ",
                                                 index_.header.version, " snapshot"));
        }
        sub = kAffiliateSubHeaderBytes;
        break;
      case SnapshotBlockType::kCustomers:
        if (index_.header.version < 5) {
          return BlockError(offset, absl::StrCat("customers block in a version ",
                                                 index_.header.version, " snapshot"));
        }
        sub = kAffiliateSubHeaderBytes;
        break;
      case SnapshotBlockType::kIdentities:
        if (index_.header.version < 4) {
          return BlockError(offset, absl::StrCat("identities block in a version ",
                                                 index_.header.version, " snapshot"));
        }
        sub = kIdentitySubHeaderBytes;
        break;
      default:
        return BlockError(offset, absl::StrCat("unknown block type ",
                                               static_cast<int>(static_cast<uint8_t>(body[0]))));
    }
    if (body.size() < sub) {
      return BlockError(offset, absl::StrCat(body.size(), " bytes, too short for a ",
                                             TypeName(b.type), " block"));
    }
    const char* p = body.data();
    b.records_offset = offset + kBlockFrameBytes + sub;
    b.records = body.substr(sub);
    const size_t n = index_.blocks.size();
    if (b.type == SnapshotBlockType::kSettings) {
      if (phase_ != SnapshotBlockType::kSettings) {
        return BlockError(offset, "settings block after the connection blocks");
      }
      b.count = Get32(p + kSettingsCountOffset);
      index_.settings += b.count;
      index_.settings_blocks.second = n + 1;
      index_.blocks.push_back(b);
      return absl::OkStatus();
    }
    if (b.type == SnapshotBlockType::kAffiliates) {
      // After the settings, before the connections; one fence for all of them.
      return FencedBlock(b, p, n, {SnapshotBlockType::kSettings}, &index_.fences.affiliates,
                         &index_.affiliates, &index_.affiliate_blocks);
    }
    if (b.type == SnapshotBlockType::kWebhooks) {
      // After the settings, affiliates and identities, before the connections.
      return FencedBlock(b, p, n,
                         {SnapshotBlockType::kSettings, SnapshotBlockType::kAffiliates,
                          SnapshotBlockType::kIdentities},
                         &index_.fences.webhooks, &index_.webhooks, &index_.webhook_blocks);
    }
    if (b.type == SnapshotBlockType::kCustomers) {
      // After the settings, affiliates, identities and webhooks, before the connections.
      return FencedBlock(b, p, n,
                         {SnapshotBlockType::kSettings, SnapshotBlockType::kAffiliates,
                          SnapshotBlockType::kIdentities, SnapshotBlockType::kWebhooks},
                         &index_.fences.customers, &index_.customers, &index_.customer_blocks);
    }
    if (b.type == SnapshotBlockType::kIdentities) {
      // After the settings and affiliates, before the connections; one fence.
      if (phase_ != SnapshotBlockType::kSettings && phase_ != SnapshotBlockType::kAffiliates &&
          phase_ != SnapshotBlockType::kIdentities) {
        return BlockError(offset, absl::StrCat("identities block out of order (after ",
                                               TypeName(phase_), " blocks)"));
      }
      b.fence = Get64(p + kIdentityFenceOffset);
      if (phase_ == SnapshotBlockType::kIdentities && b.fence != index_.fences.identities) {
        return BlockError(offset, "fence differs from the previous identities block's");
      }
      if (phase_ != SnapshotBlockType::kIdentities) index_.identity_blocks.first = n;
      phase_ = SnapshotBlockType::kIdentities;
      index_.fences.identities = b.fence;
      b.count = Get32(p + kIdentityCountOffset);
      index_.identities += b.count;
      index_.identity_blocks.second = n + 1;
      index_.blocks.push_back(b);
      return absl::OkStatus();
    }
    if (b.type == SnapshotBlockType::kOwners) {
      // After every connection shard, before the orders; numbered without a gap.
      if (phase_ != SnapshotBlockType::kOwners &&
          (phase_ != SnapshotBlockType::kConnections || !AllShardsSeen())) {
        return BlockError(offset, absl::StrCat("owners block out of order (after ",
                                               TypeName(phase_), " blocks)"));
      }
      if (Get32(p + kOwnerFirstOffset) != index_.owners) {
        return BlockError(offset, absl::StrCat("owners block starts at owner ",
                                               Get32(p + kOwnerFirstOffset), ", owner ",
                                               index_.owners, " was expected next"));
      }
      if (phase_ != SnapshotBlockType::kOwners) index_.owner_blocks.first = n;
      phase_ = SnapshotBlockType::kOwners;
      b.count = Get32(p + kOwnerCountOffset);
      index_.owners += b.count;
      index_.owner_blocks.second = n + 1;
      index_.blocks.push_back(b);
      return absl::OkStatus();
    }
    b.shard = Get32(p + 1);
    b.fence = Get64(p + 5);
    const bool orders = b.type == SnapshotBlockType::kOrders;
    if (orders) b.high_water = static_cast<engine::TimeMs>(Get64(p + 13));
    b.count = Get32(p + (orders ? kOrderCountOffset : kConnectionCountOffset));
    std::vector<std::pair<size_t, size_t>>& ranges =
        orders ? index_.order_shards : index_.connection_shards;
    std::vector<uint64_t>& fences =
        orders ? index_.fences.order_shards : index_.fences.connection_shards;
    if (b.type != phase_) {
      // Moving on to the next kind of block: the previous kind must be complete.
      if (phase_ == SnapshotBlockType::kOrders || (orders && !AllShardsSeen()) ||
          (!orders && phase_ == SnapshotBlockType::kOwners)) {
        return BlockError(offset, absl::StrCat(TypeName(b.type), " block out of order (after ",
                                               TypeName(phase_), " blocks)"));
      }
      if (orders && (phase_ == SnapshotBlockType::kSettings ||
                     phase_ == SnapshotBlockType::kAffiliates ||
                     phase_ == SnapshotBlockType::kIdentities ||
                     phase_ == SnapshotBlockType::kWebhooks ||
                     phase_ == SnapshotBlockType::kCustomers)) {
        return BlockError(offset, "orders block before the connection blocks");
      }
      phase_ = b.type;
      shard_ = -1;
    }
    if (static_cast<int64_t>(b.shard) == shard_) {
      const SnapshotBlock& prev = index_.blocks.back();
      if (prev.fence != b.fence || prev.high_water != b.high_water) {
        return BlockError(offset, absl::StrCat("shard ", b.shard,
                                               ": fence or high-water mark differs from "
                                               "the shard's previous block"));
      }
    } else if (static_cast<int64_t>(b.shard) == shard_ + 1 && b.shard < ranges.size()) {
      shard_ = b.shard;
      ranges[b.shard].first = n;
      fences[b.shard] = b.fence;
    } else {
      return BlockError(offset, absl::StrCat(TypeName(b.type), " block of shard ", b.shard,
                                             " where shard ", shard_ + 1, " was expected (",
                                             ranges.size(), " shards)"));
    }
    ranges[b.shard].second = n + 1;
    (orders ? index_.orders : index_.connections) += b.count;
    index_.blocks.push_back(b);
    return absl::OkStatus();
  }

  // A block of a piece with one fence and one record count (affiliates, webhooks):
  // after the `before` pieces (or its own), the same fence in each of its blocks.
  absl::Status FencedBlock(SnapshotBlock& b, const char* p, size_t n,
                           std::initializer_list<SnapshotBlockType> before, uint64_t* fence,
                           uint64_t* records, std::pair<size_t, size_t>* range) {
    const bool again = phase_ == b.type;
    bool in_order = again;
    for (SnapshotBlockType t : before) in_order = in_order || phase_ == t;
    if (!in_order) {
      return BlockError(b.offset, absl::StrCat(TypeName(b.type), " block out of order (after ",
                                               TypeName(phase_), " blocks)"));
    }
    b.fence = Get64(p + kAffiliateFenceOffset);
    if (again && b.fence != *fence) {
      return BlockError(b.offset, absl::StrCat("fence differs from the previous ",
                                               TypeName(b.type), " block's"));
    }
    if (!again) range->first = n;
    phase_ = b.type;
    *fence = b.fence;
    b.count = Get32(p + kAffiliateCountOffset);
    *records += b.count;
    range->second = n + 1;
    index_.blocks.push_back(b);
    return absl::OkStatus();
  }

  // The current phase's shards have all appeared (owner blocks follow complete
  // connection shards).
  bool AllShardsSeen() const {
    switch (phase_) {
      case SnapshotBlockType::kConnections:
        return shard_ + 1 == static_cast<int64_t>(index_.connection_shards.size());
      case SnapshotBlockType::kOrders:
        return shard_ + 1 == static_cast<int64_t>(index_.order_shards.size());
      case SnapshotBlockType::kOwners:
        return true;
      default:
        return false;
    }
  }

  absl::Status Trailer(uint64_t offset, absl::string_view body) {
    const auto error = [&](absl::string_view what) {
      return Error(absl::StrCat("trailer at offset ", offset, ": ", what));
    };
    if (phase_ != SnapshotBlockType::kOrders || !AllShardsSeen()) {
      return error("before every shard's blocks (blocks missing)");
    }
    if (body.size() != kTrailerBodyBytes) {
      return error(absl::StrCat(body.size(), " bytes, a trailer is ", kTrailerBodyBytes));
    }
    const char* p = body.data();
    const uint64_t counts[3] = {Get64(p + 1), Get64(p + 9), Get64(p + 17)};
    const uint64_t found[3] = {index_.settings, index_.connections, index_.orders};
    const char* what[3] = {"settings", "connections", "orders"};
    for (int i = 0; i < 3; ++i) {
      if (counts[i] != found[i]) {
        return error(absl::StrCat(counts[i], " ", what[i], " counted, the blocks hold ",
                                  found[i]));
      }
    }
    if (Get64(p + 25) != index_.blocks.size()) {
      return error(absl::StrCat(Get64(p + 25), " blocks counted, the file holds ",
                                index_.blocks.size()));
    }
    uint64_t oldest = index_.fences.settings, newest = index_.fences.settings;
    if (index_.affiliate_blocks.second != 0) {
      oldest = std::min(oldest, index_.fences.affiliates);
      newest = std::max(newest, index_.fences.affiliates);
    }
    if (index_.webhook_blocks.second != 0) {
      oldest = std::min(oldest, index_.fences.webhooks);
      newest = std::max(newest, index_.fences.webhooks);
    }
    if (index_.customer_blocks.second != 0) {
      oldest = std::min(oldest, index_.fences.customers);
      newest = std::max(newest, index_.fences.customers);
    }
    if (index_.identity_blocks.second != 0) {
      oldest = std::min(oldest, index_.fences.identities);
      newest = std::max(newest, index_.fences.identities);
    }
    for (const auto* v : {&index_.fences.connection_shards, &index_.fences.order_shards}) {
      for (uint64_t f : *v) {
        oldest = std::min(oldest, f);
        newest = std::max(newest, f);
      }
    }
    if (Get64(p + 33) != oldest || Get64(p + 41) != newest) {
      return error("oldest/newest fences differ from the blocks' fences");
    }
    if (UnmaskCrc(Get32(p + kTrailerChainOffset)) != chain_) {
      return error("chain checksum mismatch (blocks missing, repeated or out of order)");
    }
    index_.oldest_fence = oldest;
    index_.newest_fence = newest;
    return absl::OkStatus();
  }

  const absl::string_view bytes_;
  SnapshotIndex index_;
  uint32_t chain_ = 0;
  SnapshotBlockType phase_ = SnapshotBlockType::kSettings;
  int64_t shard_ = -1;  // The current phase's last shard seen.
};

}  // namespace

absl::StatusOr<SnapshotIndex> IndexSnapshot(absl::string_view name, absl::string_view bytes,
                                            int threads) {
  return Indexer(name, bytes).Run(threads);
}

absl::Status RecordError(const SnapshotIndex& index, const SnapshotBlock& block,
                         uint32_t record, size_t offset_in_records, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("snapshot ", index.name, ": block at offset ",
                                          block.offset, ": record ", record, " (at offset ",
                                          block.records_offset + offset_in_records,
                                          "): ", why));
}

}  // namespace attrib::persistence
