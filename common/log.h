// common/log.h
//
// Operational logging: one line per notable event (start, recovery, snapshot, a
// refused connection, an I/O error), never per request at the default level. Each
// line goes to stderr with one write(2), so lines from different threads never
// interleave:
//   2026-11-21T18:30:00.123Z attribd WARNING: wal/00000012.log: torn tail at ...
// The level filter is process-wide (attribd's --log_level); a disabled level costs
// one relaxed atomic load and formats nothing.
//
// common/ is the bottom layer: it depends on Abseil only, and engine/,
// persistence/, net/ and tools/ may all use it.
//
// Thread-safety: every function may be called from any thread.
#ifndef ATTRIB_COMMON_LOG_H_
#define ATTRIB_COMMON_LOG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace attrib::log {

enum class Level { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// "error", "warning", "info", "debug" (the --log_level values).
absl::StatusOr<Level> ParseLevel(absl::string_view name);
absl::string_view LevelName(Level level);  // "ERROR", "WARNING", "INFO", "DEBUG".

void SetLevel(Level level);  // Default: kInfo.
Level GetLevel();
bool Enabled(Level level);
// The program name in each line (default "attrib").
void SetProgramName(absl::string_view name);

// Where lines go; default stderr (fd 2). Tests capture lines with a pipe's fd.
void SetOutputFd(int fd);

// Formats one line (timestamp, program, level, message) without writing it.
std::string FormatLine(Level level, absl::string_view message);
// Writes one line if `level` is enabled. A trailing newline in `message` is dropped,
// and embedded newlines are replaced by spaces, so one event is one line.
void Write(Level level, absl::string_view message);

template <typename... Args>
void Error(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (Enabled(Level::kError)) Write(Level::kError, absl::StrFormat(format, args...));
}
template <typename... Args>
void Warning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (Enabled(Level::kWarning)) Write(Level::kWarning, absl::StrFormat(format, args...));
}
template <typename... Args>
void Info(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, absl::StrFormat(format, args...));
}
template <typename... Args>
void Debug(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, absl::StrFormat(format, args...));
}

}  // namespace attrib::log

#endif  // ATTRIB_COMMON_LOG_H_
