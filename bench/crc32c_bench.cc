// bench/crc32c_bench.cc: CRC-32C throughput on 4 KiB buffers: Crc32c() (SSE4.2 when
// present), the table-driven software fallback, and Boost's generic CRC as a baseline.
//
// Thread-safety: single-threaded benchmarks.
#include <random>
#include <string>

#include "benchmark/benchmark.h"
#include "boost/crc.hpp"
#include "persistence/crc32c.h"

namespace attrib::persistence {
namespace {

constexpr size_t kBufferBytes = 4096;

std::string RandomBuffer() {
  std::mt19937_64 rng(42);
  std::string buf(kBufferBytes, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  return buf;
}

void BM_Crc32c(benchmark::State& state) {
  const std::string buf = RandomBuffer();
  state.SetLabel(crc32c_internal::Crc32cHardwareAvailable() ? "sse4.2" : "software");
  for (auto _ : state) benchmark::DoNotOptimize(Crc32c(buf.data(), buf.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBufferBytes);
}
BENCHMARK(BM_Crc32c);

void BM_Crc32cSoftware(benchmark::State& state) {
  const std::string buf = RandomBuffer();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32c_internal::Crc32cSoftware(buf.data(), buf.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBufferBytes);
}
BENCHMARK(BM_Crc32cSoftware);

void BM_BoostCrc(benchmark::State& state) {
  const std::string buf = RandomBuffer();
  for (auto _ : state) {
    boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
    crc.process_bytes(buf.data(), buf.size());
    benchmark::DoNotOptimize(crc.checksum());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBufferBytes);
}
BENCHMARK(BM_BoostCrc);

}  // namespace
}  // namespace attrib::persistence
