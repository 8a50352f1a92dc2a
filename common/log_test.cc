// common/log_test.cc
#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attrib::log {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Captures what Write() emits through a pipe.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pipe2(fds_, O_NONBLOCK), 0);
    SetOutputFd(fds_[1]);
    SetProgramName("logtest");
    SetLevel(Level::kInfo);
  }
  void TearDown() override {
    SetOutputFd(2);
    SetLevel(Level::kInfo);
    close(fds_[0]);
    close(fds_[1]);
  }
  std::string Drain() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds_[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    return out;
  }
  int fds_[2];
};

TEST_F(LogTest, OneLineWithTimestampProgramAndLevel) {
  Warning("torn tail at offset %d", 42);
  const std::string out = Drain();
  EXPECT_THAT(out, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
                                "[0-9]{3}Z logtest WARNING: torn tail at offset 42\n"));
}

TEST_F(LogTest, LevelsBelowTheThresholdAreDropped) {
  SetLevel(Level::kWarning);
  Info("not shown");
  Debug("not shown");
  Error("shown");
  const std::string out = Drain();
  EXPECT_THAT(out, HasSubstr("ERROR: shown"));
  EXPECT_EQ(out.find("not shown"), std::string::npos);
  SetLevel(Level::kDebug);
  Debug("now shown");
  EXPECT_THAT(Drain(), HasSubstr("DEBUG: now shown"));
}

TEST_F(LogTest, EmbeddedNewlinesStayOnOneLine) {
  Info("a\nb\n");
  EXPECT_THAT(Drain(), ::testing::EndsWith("INFO: a b\n"));
}

TEST(LogLevelTest, ParseNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseLevel("WARNING"), Level::kWarning);
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  absl::StatusOr<Level> bad = ParseLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'verbose' is not one of"));
}

}  // namespace
}  // namespace attrib::log
