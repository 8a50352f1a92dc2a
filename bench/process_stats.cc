// bench/process_stats.cc: CPU and RSS from getrusage and /proc (see the header).
//
// Thread-safety: as the header.
#include "bench/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace attrib::bench {

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

absl::StatusOr<double> ProcessCpuSeconds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) {
    return absl::NotFoundError(absl::StrCat("--server_pid: cannot read ", path));
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields are
  // counted from the last ')'.
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) {
    return absl::DataLossError(absl::StrCat(path, ": unexpected format"));
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(line).substr(paren + 2), ' ');
  // After ')': field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::DataLossError(absl::StrCat(path, ": unexpected format"));
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

absl::StatusOr<uint64_t> ProcessRssBytes(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--server_pid: cannot read ", path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    uint64_t kib = 0;
    const std::vector<absl::string_view> parts = absl::StrSplit(
        absl::string_view(line).substr(6), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.empty() || !absl::SimpleAtoi(parts[0], &kib)) break;
    return kib * 1024;
  }
  return absl::DataLossError(absl::StrCat(path, ": no VmRSS line"));
}

}  // namespace attrib::bench
