// persistence/snapshot.cc: writing snapshots, and listing them (see snapshot.h; the
// format is in snapshot_format.h, reading in snapshot_load.cc).
//
// The writer is a SnapshotVisitor. Its callbacks run under engine locks, so they
// only encode records into `pending_`, a buffer of finished blocks (a connection is
// copied as the store holds it, format version 2); the buffer goes to the file
// after EndConnectionShard() (called once the shard's lock is released), after the
// owner list (Owners(), no lock held) and after CaptureSnapshot() returns. Order
// shards are visited entirely under their lock, so their blocks wait in the buffer;
// only when it passes kMaxBufferedBytes (a huge shard, or many orders) is it written
// from inside a callback, trading a short write under one shard's lock for bounded
// memory.
#include "persistence/snapshot.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "persistence/crc32c.h"
#include "persistence/snapshot_codec.h"
#include "persistence/snapshot_format.h"

namespace attrib::persistence {
namespace {

using snapshot_internal::Put32;
using snapshot_internal::Put64;

// Bytes of finished blocks kept before writing from inside a locked callback.
constexpr size_t kMaxBufferedBytes = 8 << 20;

class SnapshotFileWriter final : public engine::SnapshotVisitor {
 public:
  // `fs` must outlive the writer.
  SnapshotFileWriter(FileSystem* fs, std::string dir, const engine::Engine& engine,
                     int64_t now_ms)
      : fs_(fs), dir_(std::move(dir)) {
    header_.email_policy = static_cast<uint8_t>(engine.email_policy());
    header_.connection_shards = engine.shard_count();
    header_.order_shards = engine.orders().shard_count();
    header_.created_at_ms = now_ms;
    fences_.connection_shards.assign(header_.connection_shards, 0);
    fences_.order_shards.assign(header_.order_shards, 0);
    seen_connection_shards_.assign(header_.connection_shards, false);
    seen_order_shards_.assign(header_.order_shards, false);
    pending_.assign(kSnapshotHeaderBytes, '\0');  // Filled in by SettingsDone().
  }
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // --- SnapshotVisitor: encoding only, except where noted.
  void Settings(engine::ShopId shop, const engine::ShopSettings& s) override {
    if (!status_.ok()) return;
    if (!block_open_) StartBlock(SnapshotBlockType::kSettings, 0, 0, 0);
    snapshot_codec::AppendSettings(shop, s, &pending_);
    ++settings_;
    // The identity settings travel in the identity block (version 4).
    if (!s.auto_link_identifiers || !s.customer_directory ||
        s.merge_conflict != engine::MergeConflictRule::kKeepEarliest) {
      snapshot_codec::IdentityRecord r;
      r.kind = kIdentityKindSettings;
      r.shop = shop;
      r.auto_link_identifiers = s.auto_link_identifiers;
      r.merge_conflict = s.merge_conflict;
      r.customer_directory = s.customer_directory;
      identities_copy_.push_back(std::move(r));
    }
    // Never flushed here: the temp file's name needs the fence SettingsDone() gives.
    AfterRecord(/*may_flush=*/false);
  }
  void SettingsDone(uint64_t fence) override {
    if (block_open_) CloseBlock();
    fences_.settings = fence;
    header_.settings_fence = fence;
    const std::string header = EncodeSnapshotHeader(header_);
    pending_.replace(0, kSnapshotHeaderBytes, header);
  }
  // Under the directory's lock: copied, encoded at AffiliatesDone (the blocks carry
  // the fence, which is read last). A shop has thousands of affiliates, not millions.
  void AffiliateRecord(const engine::Affiliate& a) override {
    if (status_.ok()) affiliates_copy_.push_back(a);
  }
  void AffiliatesDone(uint64_t fence) override {
    if (!status_.ok()) return;
    fences_.affiliates = fence;
    StartBlock(SnapshotBlockType::kAffiliates, 0, fence, 0);
    for (const engine::Affiliate& a : affiliates_copy_) {
      if (!snapshot_codec::AppendAffiliate(a, &pending_)) {
        return Fail(absl::InternalError(absl::StrCat(
            "affiliate ", a.id, " of shop ", a.shop, ": longer than the snapshot format allows")));
      }
      ++affiliates_;
      AfterRecord(/*may_flush=*/false);
    }
    CloseBlock();
    affiliates_copy_.clear();
  }
  // Under every index shard's lock: copied, encoded at IdentitiesDone (the fence).
  void CustomerIdentifiersRecord(engine::ShopId shop,
                                 const engine::CustomerIdentifiers& c) override {
    if (!status_.ok()) return;
    snapshot_codec::IdentityRecord r;
    r.shop = shop;
    r.customer = c;
    identities_copy_.push_back(std::move(r));
  }
  void IdentitiesDone(uint64_t fence) override {
    if (!status_.ok()) return;
    fences_.identities = fence;
    StartBlock(SnapshotBlockType::kIdentities, 0, fence, 0);
    for (const snapshot_codec::IdentityRecord& r : identities_copy_) {
      if (!snapshot_codec::AppendIdentity(r, &pending_)) {
        return Fail(absl::InternalError(absl::StrCat(
            "customer ", r.customer.primary, " of shop ", r.shop,
            ": more identifiers than the snapshot format allows")));
      }
      AfterRecord(/*may_flush=*/false);
    }
    CloseBlock();
    identities_copy_.clear();
  }
  // Likewise the webhook endpoints (a few per shop).
  void WebhookEndpointRecord(const engine::WebhookEndpoint& e) override {
    if (status_.ok()) webhooks_copy_.push_back(e);
  }
  void WebhookEndpointsDone(uint64_t fence) override {
    if (!status_.ok()) return;
    fences_.webhooks = fence;
    StartBlock(SnapshotBlockType::kWebhooks, 0, fence, 0);
    for (const engine::WebhookEndpoint& e : webhooks_copy_) {
      if (!snapshot_codec::AppendWebhookEndpoint(e, &pending_)) {
        return Fail(absl::InternalError(absl::StrCat(
            "webhook endpoint ", e.id, ": longer than the snapshot format allows")));
      }
      AfterRecord(/*may_flush=*/false);
    }
    CloseBlock();
    webhooks_copy_.clear();
  }
  // Under every directory shard's lock: encoded into a side buffer (no allocation
  // per entry), framed into blocks at CustomersDone (the fence).
  void CustomerEntryRecord(engine::ShopId shop, absl::string_view key,
                           const engine::CustomerEntry& e) override {
    if (!status_.ok()) return;
    if (!snapshot_codec::AppendCustomerEntry(shop, key, e, &customers_copy_)) {
      return Fail(absl::InternalError(absl::StrCat(
          "customer directory entry of shop ", shop, ": longer than the snapshot format allows")));
    }
    customer_ends_.push_back(customers_copy_.size());
  }
  void CustomersDone(uint64_t fence) override {
    if (!status_.ok()) return;
    fences_.customers = fence;
    // One block even for an empty directory: it carries the fence.
    StartBlock(SnapshotBlockType::kCustomers, 0, fence, 0);
    size_t begin = 0;
    for (size_t end : customer_ends_) {
      pending_.append(customers_copy_, begin, end - begin);
      begin = end;
      AfterRecord(/*may_flush=*/true);
    }
    CloseBlock();
    customers_copy_.clear();
    customers_copy_.shrink_to_fit();
    customer_ends_.clear();
    customer_ends_.shrink_to_fit();
  }
  void BeginConnectionShard(uint32_t index, uint64_t fence) override {
    if (!status_.ok()) return;
    if (index >= fences_.connection_shards.size()) {
      return Fail(absl::InternalError(absl::StrCat("connection shard ", index, " of ",
                                                   fences_.connection_shards.size())));
    }
    fences_.connection_shards[index] = fence;
    seen_connection_shards_[index] = true;
    StartBlock(SnapshotBlockType::kConnections, index, fence, 0);
  }
  // The store's record verbatim (format version 2): a copy, no encoding.
  void ConnectionRecord(const engine::ConnectionView& c,
                        const engine::EncodedConnection& encoded) override {
    if (!status_.ok()) return;
    if (!snapshot_codec::AppendEncodedConnection(encoded, &pending_)) {
      return Fail(absl::InternalError(absl::StrCat(
          "connection of shop ", c.shop, ": a record of ", encoded.bytes.size(),
          " bytes, longer than the snapshot format allows")));
    }
    ++connections_;
    AfterRecord(/*may_flush=*/true);
  }
  void EndConnectionShard(uint32_t) override {  // Called after the lock is released.
    if (!status_.ok()) return;
    CloseBlock();
    Flush();
  }
  void Owners(absl::Span<const engine::OwnerKey> owners) override {  // No lock held.
    if (!status_.ok() || owners.empty()) return;
    StartBlock(SnapshotBlockType::kOwners, 0, 0, 0);
    for (const engine::OwnerKey& o : owners) {
      snapshot_codec::AppendOwner(o, &pending_);
      ++owners_;
      AfterRecord(/*may_flush=*/true);
    }
    CloseBlock();
    Flush();
  }
  void BeginOrderShard(uint32_t index, uint64_t fence, engine::TimeMs high_water) override {
    if (!status_.ok()) return;
    if (index >= fences_.order_shards.size()) {
      return Fail(absl::InternalError(
          absl::StrCat("order shard ", index, " of ", fences_.order_shards.size())));
    }
    fences_.order_shards[index] = fence;
    seen_order_shards_[index] = true;
    StartBlock(SnapshotBlockType::kOrders, index, fence, high_water);
  }
  void Order(const engine::OrderRecord& r) override {
    if (!status_.ok()) return;
    if (!snapshot_codec::AppendOrder(r, &pending_)) {
      return Fail(absl::InternalError(absl::StrCat(
          "order of shop ", r.shop, ": a string is longer than the snapshot format "
          "allows (", kMaxOrderStringBytes, " bytes)")));
    }
    ++orders_;
    AfterRecord(/*may_flush=*/true);
  }
  void EndOrderShard(uint32_t) override {
    if (!status_.ok()) return;
    CloseBlock();
    if (pending_.size() >= kMaxBufferedBytes) Flush();
  }

  // After CaptureSnapshot(): trailer, sync, before_publish, rename, sync the directory.
  absl::StatusOr<SnapshotInfo> Finish(const std::function<absl::Status()>& before_publish) {
    for (uint32_t i = 0; i < seen_connection_shards_.size() && status_.ok(); ++i) {
      if (!seen_connection_shards_[i]) Fail(absl::InternalError("a shard was not captured"));
    }
    for (uint32_t i = 0; i < seen_order_shards_.size() && status_.ok(); ++i) {
      if (!seen_order_shards_[i]) Fail(absl::InternalError("a shard was not captured"));
    }
    if (!status_.ok()) return status_;
    SnapshotInfo info;
    info.fences = fences_;
    info.oldest_fence = std::min({fences_.settings, fences_.affiliates, fences_.identities,
                                  fences_.webhooks, fences_.customers});
    info.newest_fence = std::max({fences_.settings, fences_.affiliates, fences_.identities,
                                  fences_.webhooks, fences_.customers});
    for (const auto* v : {&fences_.connection_shards, &fences_.order_shards}) {
      for (uint64_t f : *v) {
        info.oldest_fence = std::min(info.oldest_fence, f);
        info.newest_fence = std::max(info.newest_fence, f);
      }
    }
    AppendTrailer(info.oldest_fence, info.newest_fence);
    Flush();
    if (status_.ok()) status_ = file_->Sync();
    if (file_ != nullptr) {  // Closed once, whatever happened.
      const absl::Status closed = file_->Close();
      file_.reset();
      if (status_.ok()) status_ = closed;
    }
    if (status_.ok() && before_publish) status_ = before_publish();
    if (!status_.ok()) return status_;
    info.path = JoinPath(dir_, SnapshotName(info.oldest_fence));
    if (absl::Status s = fs_->Rename(temp_path_, info.path); !s.ok()) {
      Fail(s);
      return s;
    }
    renamed_ = true;
    if (absl::Status s = fs_->SyncDir(dir_); !s.ok()) return s;
    info.connections = connections_;
    info.settings = settings_;
    info.orders = orders_;
    info.affiliates = affiliates_;
    info.bytes = bytes_written_;
    info.created_at_ms = header_.created_at_ms;
    info.email_policy = header_.email_policy;
    info.shard_count = header_.connection_shards;
    return info;
  }

  // After a failure: closes and removes the temp file (best effort; after a crash
  // the file system refuses, and startup removes it with RemoveStaleSnapshotTemps).
  void Abandon() {
    if (file_ != nullptr) {
      (void)file_->Close();
      file_.reset();
    }
    if (!temp_path_.empty() && !renamed_) (void)fs_->Remove(temp_path_);
  }

 private:
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  // Opens a block at the end of pending_: frame placeholder and sub-header.
  void StartBlock(SnapshotBlockType type, uint32_t shard, uint64_t fence,
                  engine::TimeMs high_water) {
    block_open_ = true;
    block_type_ = type;
    block_shard_ = shard;
    block_fence_ = fence;
    block_high_water_ = high_water;
    block_start_ = pending_.size();
    block_records_ = 0;
    char sub[kOrderSubHeaderBytes] = {};
    size_t sub_bytes = 0;
    sub[0] = static_cast<char>(type);
    switch (type) {
      case SnapshotBlockType::kSettings:
        sub_bytes = kSettingsSubHeaderBytes;
        break;
      case SnapshotBlockType::kConnections:
        Put32(sub + 1, shard);
        Put64(sub + 5, fence);
        sub_bytes = kConnectionSubHeaderBytes;
        break;
      case SnapshotBlockType::kOrders:
        Put32(sub + 1, shard);
        Put64(sub + 5, fence);
        Put64(sub + 13, static_cast<uint64_t>(high_water));
        sub_bytes = kOrderSubHeaderBytes;
        break;
      case SnapshotBlockType::kOwners:
        Put32(sub + kOwnerFirstOffset, shard);  // The index of the block's first owner.
        sub_bytes = kOwnerSubHeaderBytes;
        break;
      case SnapshotBlockType::kAffiliates:
      case SnapshotBlockType::kWebhooks:
      case SnapshotBlockType::kCustomers:
        Put64(sub + kAffiliateFenceOffset, fence);
        sub_bytes = kAffiliateSubHeaderBytes;
        break;
      case SnapshotBlockType::kIdentities:
        Put64(sub + kIdentityFenceOffset, fence);
        sub_bytes = kIdentitySubHeaderBytes;
        break;
      case SnapshotBlockType::kTrailer:
        break;
    }
    pending_.append(kBlockFrameBytes, '\0');
    pending_.append(sub, sub_bytes);
  }

  void AfterRecord(bool may_flush) {
    ++block_records_;
    if (pending_.size() - block_start_ - kBlockFrameBytes < kTargetBlockBytes) return;
    // The block is full: close it and continue the same piece in a new one.
    CloseBlock();
    if (may_flush && pending_.size() >= kMaxBufferedBytes) Flush();
    const bool owners = block_type_ == SnapshotBlockType::kOwners;
    StartBlock(block_type_, owners ? static_cast<uint32_t>(owners_) : block_shard_,
               block_fence_, block_high_water_);
  }

  // Patches the record count and the frame of the open block.
  void CloseBlock() {
    char* frame = pending_.data() + block_start_;
    char* body = frame + kBlockFrameBytes;
    const size_t body_bytes = pending_.size() - block_start_ - kBlockFrameBytes;
    switch (block_type_) {
      case SnapshotBlockType::kSettings:
        Put32(body + kSettingsCountOffset, block_records_);
        break;
      case SnapshotBlockType::kConnections:
        Put32(body + kConnectionCountOffset, block_records_);
        break;
      case SnapshotBlockType::kOrders:
        Put32(body + kOrderCountOffset, block_records_);
        break;
      case SnapshotBlockType::kOwners:
        Put32(body + kOwnerCountOffset, block_records_);
        break;
      case SnapshotBlockType::kAffiliates:
      case SnapshotBlockType::kWebhooks:
      case SnapshotBlockType::kCustomers:
        Put32(body + kAffiliateCountOffset, block_records_);
        break;
      case SnapshotBlockType::kIdentities:
        Put32(body + kIdentityCountOffset, block_records_);
        break;
      case SnapshotBlockType::kTrailer:
        break;
    }
    Put32(frame, static_cast<uint32_t>(body_bytes));
    Put32(frame + 4, MaskCrc(Crc32c(body, body_bytes)));
    frame_log_.append(frame, kBlockFrameBytes);
    ++blocks_;
    block_open_ = false;
  }

  void AppendTrailer(uint64_t oldest, uint64_t newest) {
    // The chain: the header bytes, then every data block's frame (format header).
    const std::string header = EncodeSnapshotHeader(header_);
    const uint32_t chain = Crc32c(frame_log_.data(), frame_log_.size(),
                                  Crc32c(header.data(), header.size()));
    char body[kTrailerBodyBytes] = {};
    body[0] = static_cast<char>(SnapshotBlockType::kTrailer);
    Put64(body + 1, settings_);
    Put64(body + 9, connections_);
    Put64(body + 17, orders_);
    Put64(body + 25, blocks_);
    Put64(body + 33, oldest);
    Put64(body + 41, newest);
    Put32(body + kTrailerChainOffset, MaskCrc(chain));
    char frame[kBlockFrameBytes];
    Put32(frame, kTrailerBodyBytes);
    Put32(frame + 4, MaskCrc(Crc32c(body, kTrailerBodyBytes)));
    pending_.append(frame, kBlockFrameBytes);
    pending_.append(body, kTrailerBodyBytes);
  }

  // Writes pending_ (finished blocks only) to the temp file, opening it first.
  void Flush() {
    if (!status_.ok() || pending_.empty()) return;
    if (file_ == nullptr) {
      temp_path_ = JoinPath(dir_, SnapshotTempName(header_.settings_fence));
      absl::StatusOr<std::unique_ptr<WritableFile>> f =
          fs_->OpenForAppend(temp_path_, /*truncate=*/true);
      if (!f.ok()) return Fail(f.status());
      file_ = std::move(*f);
    }
    if (absl::Status s = file_->Append(pending_); !s.ok()) return Fail(s);
    bytes_written_ += pending_.size();
    pending_.clear();
  }

  FileSystem* const fs_;
  const std::string dir_;
  SnapshotHeader header_;
  engine::SnapshotFences fences_;
  std::vector<bool> seen_connection_shards_;
  std::vector<bool> seen_order_shards_;

  absl::Status status_;  // The first error; every callback is a no-op after it.
  std::unique_ptr<WritableFile> file_;
  std::string temp_path_;
  bool renamed_ = false;

  std::string pending_;    // Bytes not yet written: finished blocks, then the open one.
  std::string frame_log_;  // The frame (8 bytes) of every finished block, for the chain.
  bool block_open_ = false;
  SnapshotBlockType block_type_ = SnapshotBlockType::kSettings;
  uint32_t block_shard_ = 0;
  uint64_t block_fence_ = 0;
  engine::TimeMs block_high_water_ = 0;
  size_t block_start_ = 0;
  uint32_t block_records_ = 0;

  uint64_t settings_ = 0, connections_ = 0, orders_ = 0, owners_ = 0, blocks_ = 0;
  uint64_t affiliates_ = 0;
  std::vector<engine::Affiliate> affiliates_copy_;
  std::vector<engine::WebhookEndpoint> webhooks_copy_;
  std::vector<snapshot_codec::IdentityRecord> identities_copy_;
  std::string customers_copy_;        // Encoded directory records, back to back.
  std::vector<size_t> customer_ends_;  // The end offset of each in customers_copy_.
  uint64_t bytes_written_ = 0;
};

}  // namespace

absl::StatusOr<SnapshotInfo> WriteSnapshot(
    FileSystem* fs, const std::string& snapshot_dir, const engine::Engine& engine,
    const std::function<uint64_t()>& current_seq, int64_t now_ms,
    const std::function<absl::Status()>& before_publish) {
  const auto start = std::chrono::steady_clock::now();
  SnapshotFileWriter writer(fs, snapshot_dir, engine, now_ms);
  engine.CaptureSnapshot(current_seq, &writer);
  absl::StatusOr<SnapshotInfo> info = writer.Finish(before_publish);
  if (!info.ok()) {
    writer.Abandon();
    return info.status();
  }
  info->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return info;
}

absl::StatusOr<std::vector<std::string>> ListSnapshots(FileSystem* fs,
                                                       const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = fs->ListDir(dir);
  if (absl::IsNotFound(names.status())) return std::vector<std::string>();
  if (!names.ok()) return names.status();
  std::vector<std::pair<uint64_t, std::string>> found;
  for (const std::string& name : *names) {
    uint64_t fence;
    if (ParseSnapshotName(name, &fence)) found.emplace_back(fence, name);
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (const auto& [fence, name] : found) paths.push_back(JoinPath(dir, name));
  return paths;
}

absl::StatusOr<int> RemoveStaleSnapshotTemps(FileSystem* fs, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = fs->ListDir(dir);
  if (absl::IsNotFound(names.status())) return 0;
  if (!names.ok()) return names.status();
  int removed = 0;
  for (const std::string& name : *names) {
    if (!IsSnapshotTempName(name)) continue;
    if (absl::Status s = fs->Remove(JoinPath(dir, name)); !s.ok()) return s;
    ++removed;
  }
  return removed;
}

}  // namespace attrib::persistence
