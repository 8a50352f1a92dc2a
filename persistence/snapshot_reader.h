// persistence/snapshot_reader.h
//
// Verifying a snapshot file held in memory: the header, every block's frame and
// checksum, the block order, the per-shard fences, the owner numbering, and the
// trailer's totals and chain checksum (snapshot_format.h). The result indexes the blocks so that
// snapshot_load.cc can decode shards independently (in parallel), and
// DecodeBlockRecords() decodes one block's records with every error named by file
// and offset. Internal to persistence/; the API is snapshot.h.
//
// Thread-safety: IndexSnapshot() is a pure function; a SnapshotIndex is immutable
// after it returns (views into the caller's bytes, which must outlive it) and may be
// read from any thread.
#ifndef ATTRIB_PERSISTENCE_SNAPSHOT_READER_H_
#define ATTRIB_PERSISTENCE_SNAPSHOT_READER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "persistence/snapshot_codec.h"
#include "persistence/snapshot_format.h"

namespace attrib::persistence {

struct SnapshotBlock {
  uint64_t offset = 0;  // Of the block's frame in the file.
  SnapshotBlockType type = SnapshotBlockType::kSettings;
  uint32_t shard = 0;
  uint64_t fence = 0;
  engine::TimeMs high_water = 0;  // Order blocks.
  uint32_t count = 0;             // Records in the block.
  size_t records_offset = 0;      // Of the first record in the file.
  absl::string_view records;      // The record bytes (after the sub-header).
};

struct SnapshotIndex {
  std::string name;  // The file's base name, for messages.
  SnapshotHeader header;
  std::vector<SnapshotBlock> blocks;  // Data blocks, in file order.
  // Ranges [first, second) of `blocks`: the settings blocks, and each shard's blocks.
  std::pair<size_t, size_t> settings_blocks;
  std::pair<size_t, size_t> owner_blocks;      // Version 2.
  std::pair<size_t, size_t> affiliate_blocks;  // Version 3.
  std::pair<size_t, size_t> webhook_blocks;    // Version 4.
  std::pair<size_t, size_t> identity_blocks;   // Version 4.
  std::pair<size_t, size_t> customer_blocks;   // Version 5.
  std::vector<std::pair<size_t, size_t>> connection_shards;
  std::vector<std::pair<size_t, size_t>> order_shards;
  engine::SnapshotFences fences;
  uint64_t oldest_fence = 0;
  uint64_t newest_fence = 0;
  uint64_t settings = 0;
  uint64_t owners = 0;  // Owner records (version 2).
  uint64_t affiliates = 0;  // Affiliate records (version 3).
  uint64_t webhooks = 0;    // Webhook endpoint records (version 4).
  uint64_t identities = 0;  // Identity records (version 4).
  uint64_t customers = 0;   // Customer directory records (version 5).
  uint64_t connections = 0;
  uint64_t orders = 0;
  uint64_t bytes = 0;
  int connection_shard_bits = 0;  // log2 of the header's connection shard count.
};

// The connection shard of a key hash (as engine::ConnectionStore::ShardOf).
inline uint32_t ShardOfKeyHash(const SnapshotIndex& index, uint64_t key_hash) {
  return index.connection_shard_bits == 0
             ? 0
             : static_cast<uint32_t>(key_hash >> (64 - index.connection_shard_bits));
}

// Verifies `bytes` (a whole snapshot file named `name`) and indexes its blocks.
// DataLoss "snapshot <name>: ..." naming the offset of what fails. The block
// checksums are computed by `threads` threads (the calling one included); the
// result and the error reported do not depend on it: with several damaged blocks,
// the first in the file is named.
absl::StatusOr<SnapshotIndex> IndexSnapshot(absl::string_view name, absl::string_view bytes,
                                            int threads = 1);

// DataLoss "snapshot <name>: block at offset N: record K (at offset M): <why>".
absl::Status RecordError(const SnapshotIndex& index, const SnapshotBlock& block,
                         uint32_t record, size_t offset_in_records, absl::string_view why);

// Decodes the records of one block: read(decoder) reads one record and returns
// false on malformed input; use(record) consumes it. Checks that the block holds
// exactly its count of records.
template <typename Read, typename Use>
absl::Status DecodeBlockRecords(const SnapshotIndex& index, const SnapshotBlock& block,
                                Read&& read, Use&& use) {
  snapshot_codec::RecordDecoder decoder(block.records, index.header.version);
  for (uint32_t i = 0; i < block.count; ++i) {
    const size_t at = decoder.offset();
    if (decoder.done()) return RecordError(index, block, i, at, "missing (block ends)");
    if (!read(decoder)) return RecordError(index, block, i, at, decoder.error());
    use();
  }
  if (!decoder.done()) {
    return RecordError(index, block, block.count, decoder.offset(),
                       absl::StrCat(block.records.size() - decoder.offset(),
                                    " bytes after the block's last record"));
  }
  return absl::OkStatus();
}

// Reads the version 2 connection records of one block, each checked for form, for
// an owner index below index.owners, and for a key hash of the block's shard; calls
// use(key_hash, record) -> absl::Status for each (record: the store's encoding,
// viewed in the block). Checks that the block holds exactly its count of records.
template <typename Use>
absl::Status ForEachEncodedConnection(const SnapshotIndex& index, const SnapshotBlock& block,
                                      Use&& use) {
  const uint32_t owners = static_cast<uint32_t>(std::min<uint64_t>(index.owners, UINT32_MAX));
  snapshot_codec::RecordDecoder decoder(block.records);
  for (uint32_t i = 0; i < block.count; ++i) {
    const size_t at = decoder.offset();
    if (decoder.done()) return RecordError(index, block, i, at, "missing (block ends)");
    uint64_t key_hash;
    absl::string_view record;
    if (!decoder.ReadEncodedConnection(owners, &key_hash, &record)) {
      return RecordError(index, block, i, at, decoder.error());
    }
    if (ShardOfKeyHash(index, key_hash) != block.shard) {
      return RecordError(index, block, i, at,
                         absl::StrCat("key hash of shard ", ShardOfKeyHash(index, key_hash),
                                      " in a block of shard ", block.shard));
    }
    if (absl::Status s = use(key_hash, record); !s.ok()) {
      return RecordError(index, block, i, at, s.message());
    }
  }
  if (!decoder.done()) {
    return RecordError(index, block, block.count, decoder.offset(),
                       absl::StrCat(block.records.size() - decoder.offset(),
                                    " bytes after the block's last record"));
  }
  return absl::OkStatus();
}

}  // namespace attrib::persistence

#endif  // ATTRIB_PERSISTENCE_SNAPSHOT_READER_H_
