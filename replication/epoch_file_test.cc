// replication/epoch_file_test.cc: DATA/replication_epoch round-trips, is absent as
// {0, 0}, and a damaged one is DataLoss naming the file.
#include "replication/epoch_file.h"

#include <stdlib.h>

#include <string>

#include "gtest/gtest.h"

namespace attrib::replication {
namespace {

class EpochFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/attrib-epoch-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  persistence::FileSystem* fs_ = persistence::PosixFileSystem();
  std::string dir_;
};

TEST_F(EpochFileTest, AbsentIsEpochZero) {
  absl::StatusOr<EpochRecord> r = ReadEpochFile(fs_, dir_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (EpochRecord{0, 0}));
}

TEST_F(EpochFileTest, RoundTripsAndReplaces) {
  ASSERT_TRUE(WriteEpochFile(fs_, dir_, {1, 91}).ok());
  EXPECT_EQ(*ReadEpochFile(fs_, dir_), (EpochRecord{1, 91}));
  ASSERT_TRUE(WriteEpochFile(fs_, dir_, {2, 0}).ok());
  EXPECT_EQ(*ReadEpochFile(fs_, dir_), (EpochRecord{2, 0}));
  EXPECT_FALSE(fs_->Exists(dir_ + "/replication_epoch.tmp"));
}

TEST_F(EpochFileTest, DamagedIsDataLoss) {
  auto f = fs_->OpenForAppend(dir_ + "/replication_epoch", true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("seven\n").ok());
  ASSERT_TRUE((*f)->Close().ok());
  absl::StatusOr<EpochRecord> r = ReadEpochFile(fs_, dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("replication_epoch"), std::string::npos);
}

}  // namespace
}  // namespace attrib::replication
