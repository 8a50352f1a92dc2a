// common/log.cc: see log.h.
#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace attrib::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_fd{2};

absl::Mutex g_name_mu;
std::string& ProgramName() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_name_mu) {
  static std::string* name = new std::string("attrib");
  return *name;
}

}  // namespace

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "error") return Level::kError;
  if (lower == "warning") return Level::kWarning;
  if (lower == "info") return Level::kInfo;
  if (lower == "debug") return Level::kDebug;
  return absl::InvalidArgumentError(absl::StrCat(
      "log_level: '", name, "' is not one of error, warning, info, debug"));
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kError: return "ERROR";
    case Level::kWarning: return "WARNING";
    case Level::kInfo: return "INFO";
    case Level::kDebug: return "DEBUG";
  }
  return "?";
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
bool Enabled(Level level) {
  return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

void SetProgramName(absl::string_view name) {
  absl::MutexLock lock(&g_name_mu);
  ProgramName() = std::string(name);
}

void SetOutputFd(int fd) { g_fd.store(fd, std::memory_order_relaxed); }

std::string FormatLine(Level level, absl::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.remove_suffix(1);
  }
  std::string name;
  {
    absl::MutexLock lock(&g_name_mu);
    name = ProgramName();
  }
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
      name, " ", LevelName(level), ": ");
  const size_t start = line.size();
  absl::StrAppend(&line, message);
  for (size_t i = start; i < line.size(); ++i) {
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  }
  line.push_back('\n');
  return line;
}

void Write(Level level, absl::string_view message) {
  if (!Enabled(level)) return;
  const std::string line = FormatLine(level, message);
  const int fd = g_fd.load(std::memory_order_relaxed);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Nowhere to report a failure to log.
    done += static_cast<size_t>(n);
  }
}

}  // namespace attrib::log
