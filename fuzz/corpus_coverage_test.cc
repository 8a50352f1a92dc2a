// fuzz/corpus_coverage_test.cc
//
// The checked-in seed corpus (fuzz/corpus/, written by make_corpus.sh) starts each
// fuzz target from a valid example of every kind it parses: every log tag the
// mutation codec knows (mutation_codec_fuzz: one payload per tag; log_reader_fuzz:
// the segment and the payload stream), every member of the native protocol's
// Request union (frame_fuzz, from capnp's schema reflection), and every snapshot
// block type of the current format (snapshot_reader_fuzz). A new record or request
// without a seed fails here, naming it: add it to make_corpus.cc / corpus_frames.cc
// and run fuzz/make_corpus.sh.
//
// Thread-safety: single-threaded tests.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "capnp/schema.h"
#include "capnp/serialize.h"
#include "gtest/gtest.h"
#include "kj/array.h"
#include "net/attrib.capnp.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/log_reader.h"
#include "persistence/mutation_codec.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_format.h"

namespace attrib {
namespace {

namespace fs = std::filesystem;

// libFuzzer reads at most -max_len bytes of a seed (fuzz/CMakeLists.txt).
constexpr size_t kMaxSeedBytes = 8192;

std::string CorpusDir(const std::string& target) {
  return std::string(ATTRIB_SOURCE_DIR) + "/fuzz/corpus/" + target;
}

// The seed files of one target: name -> bytes.
std::map<std::string, std::string> Seeds(const std::string& target) {
  std::map<std::string, std::string> seeds;
  for (const auto& entry : fs::directory_iterator(CorpusDir(target))) {
    std::ifstream in(entry.path(), std::ios::binary);
    seeds[entry.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return seeds;
}

// Writes `bytes` as DIR/NAME (`path`) of the in-memory file system, as the fuzz
// targets do.
absl::Status InMemoryFile(persistence::FaultInjectingFileSystem* files, const std::string& path,
                          absl::string_view bytes) {
  if (absl::Status s = files->CreateDir(path.substr(0, path.find('/'))); !s.ok()) return s;
  auto file = files->OpenForAppend(path, /*truncate=*/true);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(bytes); !s.ok()) return s;
  return (*file)->Close();
}

// The tags DecodeMutation knows: every byte whose payload is not rejected as an
// unknown mutation type (the body is then truncated, which is another error).
std::set<int> KnownTags() {
  std::set<int> tags;
  for (int tag = 0; tag < 256; ++tag) {
    const std::string probe = {static_cast<char>(tag), '\0'};  // made_at 0, no body.
    const auto decoded = persistence::DecodeMutation(probe);
    if (decoded.ok() || !absl::StrContains(decoded.status().message(), "unknown mutation type")) {
      tags.insert(tag);
    }
  }
  return tags;
}

std::string Missing(const std::set<int>& want, const std::set<int>& have) {
  std::vector<int> missing;
  for (int v : want) {
    if (!have.count(v)) missing.push_back(v);
  }
  return absl::StrJoin(missing, ", ");
}

// Decodes `payload` (it must be a valid mutation) and adds its tag to *tags.
void AddTag(const std::string& where, absl::string_view payload, std::set<int>* tags) {
  ASSERT_FALSE(payload.empty()) << where;
  const auto decoded = persistence::DecodeMutation(payload);
  ASSERT_TRUE(decoded.ok()) << where << ": " << decoded.status();
  tags->insert(static_cast<uint8_t>(payload[0]));
}

TEST(CorpusCoverageTest, TheCodecKnowsTheDocumentedTags) {
  // The probe itself: tags 1-20 (mutation_codec.h), nothing else.
  std::set<int> expected;
  for (int tag = 1; tag <= 20; ++tag) expected.insert(tag);
  EXPECT_EQ(KnownTags(), expected);
}

TEST(CorpusCoverageTest, MutationCodecSeedsHaveEveryLogTag) {
  std::set<int> tags;
  for (const auto& [name, bytes] : Seeds("mutation_codec_fuzz")) {
    EXPECT_LE(bytes.size(), kMaxSeedBytes) << name;
    AddTag("mutation_codec_fuzz/" + name, bytes, &tags);
  }
  EXPECT_EQ(Missing(KnownTags(), tags), "")
      << "log tags without a mutation_codec_fuzz seed (fuzz/make_corpus.cc)";
}

TEST(CorpusCoverageTest, LogReaderSeedsHaveEveryLogTag) {
  const auto seeds = Seeds("log_reader_fuzz");
  ASSERT_TRUE(seeds.count("segment") && seeds.count("payloads"));
  for (const auto& [name, bytes] : seeds) EXPECT_LE(bytes.size(), kMaxSeedBytes) << name;

  // The segment (mode byte even): every record verifies and decodes.
  const std::string& segment = seeds.at("segment");
  ASSERT_FALSE(segment.empty());
  EXPECT_EQ(segment[0] & 1, 0);
  persistence::FaultInjectingFileSystem files;
  const std::string path = "wal/00000000000000001000.log";
  ASSERT_TRUE(InMemoryFile(&files, path, absl::string_view(segment).substr(1)).ok());
  std::set<int> segment_tags;
  const auto scan = persistence::ScanSegment(&files, path, [&](const persistence::LogRecordRef& r) {
    AddTag(absl::StrCat("segment record ", r.seq), r.payload, &segment_tags);
    return absl::OkStatus();
  });
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->tail, persistence::SegmentScan::Tail::kClean) << scan->problem;
  EXPECT_EQ(Missing(KnownTags(), segment_tags), "") << "log tags not in log_reader_fuzz/segment";

  // The payload stream (mode byte odd): 2-byte little-endian length, then a payload.
  const std::string& stream = seeds.at("payloads");
  ASSERT_FALSE(stream.empty());
  EXPECT_EQ(stream[0] & 1, 1);
  std::set<int> stream_tags;
  size_t at = 1;
  while (at + 2 <= stream.size()) {
    const size_t length = static_cast<uint8_t>(stream[at]) |
                          static_cast<size_t>(static_cast<uint8_t>(stream[at + 1])) << 8;
    at += 2;
    ASSERT_LE(length, stream.size() - at);
    AddTag(absl::StrCat("payloads at ", at), absl::string_view(stream).substr(at, length),
           &stream_tags);
    at += length;
  }
  EXPECT_EQ(at, stream.size());
  EXPECT_EQ(Missing(KnownTags(), stream_tags), "") << "log tags not in log_reader_fuzz/payloads";
}

TEST(CorpusCoverageTest, FrameSeedsHaveEveryRequestMember) {
  std::map<int, std::string> members;  // Discriminant -> name.
  for (auto field : capnp::Schema::from<net::wire::Request>().getUnionFields()) {
    members[field.getProto().getDiscriminantValue()] = field.getProto().getName();
  }
  ASSERT_GE(members.size(), 26u);  // @1-@23, @25-@27 (@24 is minSeq).

  std::set<int> seen;
  bool min_seq = false;
  for (const auto& [name, bytes] : Seeds("frame_fuzz")) {
    EXPECT_LE(bytes.size(), kMaxSeedBytes) << name;
    ASSERT_EQ(bytes.size() % sizeof(capnp::word), 0u) << name;
    kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
    memcpy(words.begin(), bytes.data(), bytes.size());
    kj::ArrayPtr<const capnp::word> rest = words.asPtr();
    while (rest.size() > 0) {
      capnp::FlatArrayMessageReader reader(rest);
      auto request = reader.getRoot<net::wire::Request>();
      seen.insert(static_cast<int>(request.which()));
      min_seq |= request.getMinSeq() != 0;
      rest = kj::arrayPtr(reader.getEnd(), rest.end());
    }
    // Each member's own seed is named after it.
    for (const auto& [value, member] : members) {
      if (name == member) {
        capnp::FlatArrayMessageReader reader(words.asPtr());
        EXPECT_EQ(static_cast<int>(reader.getRoot<net::wire::Request>().which()), value) << name;
      }
    }
  }
  std::vector<std::string> missing;
  for (const auto& [value, member] : members) {
    if (!seen.count(value)) missing.push_back(member);
  }
  EXPECT_EQ(absl::StrJoin(missing, ", "), "")
      << "Request members without a frame_fuzz seed (fuzz/corpus_frames.cc)";
  EXPECT_TRUE(min_seq) << "no frame_fuzz seed sets Request.minSeq";
}

TEST(CorpusCoverageTest, SnapshotSeedHasEveryBlockType) {
  const auto seeds = Seeds("snapshot_reader_fuzz");
  ASSERT_TRUE(seeds.count("snapshot"));
  const std::string& bytes = seeds.at("snapshot");
  EXPECT_LE(bytes.size(), kMaxSeedBytes);
  ASSERT_GE(bytes.size(), persistence::kSnapshotHeaderBytes);
  const auto u32 = [&](size_t at) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data()) + at;
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
  };
  EXPECT_EQ(u32(8), persistence::kSnapshotVersion) << "regenerate: fuzz/make_corpus.sh";

  std::set<int> types;
  for (size_t at = persistence::kSnapshotHeaderBytes; at < bytes.size();) {
    ASSERT_LE(at + persistence::kBlockFrameBytes + 1, bytes.size());
    types.insert(static_cast<uint8_t>(bytes[at + persistence::kBlockFrameBytes]));
    at += persistence::kBlockFrameBytes + u32(at);
  }
  // The block types of the current version (snapshot_format.h: 1-9, customers last).
  std::set<int> expected;
  for (int t = 1; t <= static_cast<int>(persistence::SnapshotBlockType::kCustomers); ++t) {
    expected.insert(t);
  }
  EXPECT_EQ(Missing(expected, types), "") << "snapshot block types not in the seed";

  persistence::FaultInjectingFileSystem files;
  const std::string path = "snap/snap-00000000000000000100.snap";
  ASSERT_TRUE(InMemoryFile(&files, path, bytes).ok());
  const auto info = persistence::ReadSnapshotInfo(&files, path);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GT(info->affiliates, 0u);
}

}  // namespace
}  // namespace attrib
