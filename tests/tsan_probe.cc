// tests/tsan_probe.cc
//
// Checks the ThreadSanitizer build itself (-DATTRIB_TSAN=ON; ctest -L tsan_probe):
// that tests/tsan_absl_mutex_annotations.cc makes absl::Mutex visible to TSan, so
// correctly locked code is not reported while a real race still is.
//   tsan_probe mutex     a counter guarded by one absl::Mutex          (no report)
//   tsan_probe reader    a writer and readers under ReaderMutexLock    (no report)
//   tsan_probe wait      a hand-off through Await and CondVar::Wait    (no report)
//   tsan_probe race      two threads, each under its own mutex         (a data race)
// ctest runs `race` expecting the report, the others expecting exit status 0 (TSan
// exits 66 after any report). The same `mutex` mode built without the annotations
// (tsan_probe_unannotated) is expected to be reported: the false report the
// annotations exist to remove.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace {

constexpr int kThreads = 4;
constexpr int kIterations = 1000;

struct Counter {
  absl::Mutex mu;
  long value ABSL_GUARDED_BY(mu) = 0;
};

int GuardedCounter() {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < kIterations; ++i) {
        absl::MutexLock lock(&c.mu);
        ++c.value;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&c.mu);
  return c.value == kThreads * kIterations ? 0 : 1;
}

int ReaderWriter() {
  Counter c;
  std::thread writer([&c] {
    for (int i = 0; i < kIterations; ++i) {
      absl::MutexLock lock(&c.mu);
      ++c.value;
    }
  });
  std::vector<std::thread> readers;
  long seen[kThreads] = {};
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([&c, &seen, t] {
      for (int i = 0; i < kIterations; ++i) {
        absl::ReaderMutexLock lock(&c.mu);
        seen[t] = std::max(seen[t], c.value);
      }
    });
  }
  writer.join();
  for (std::thread& t : readers) t.join();
  return 0;
}

// A producer hands values to a consumer one at a time: Await on one side,
// CondVar::Wait on the other, the payload unguarded but published by the mutex.
int Handoff() {
  absl::Mutex mu;
  absl::CondVar taken;
  bool full = false;  // Guarded by mu.
  long payload = 0;  // Written before `full` is set, read after it is seen.
  long sum = 0;
  std::thread consumer([&] {
    for (int i = 0; i < kIterations; ++i) {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&full));
      sum += payload;
      full = false;
      taken.Signal();
    }
  });
  for (int i = 0; i < kIterations; ++i) {
    absl::MutexLock lock(&mu);
    while (full) taken.Wait(&mu);
    payload = i;
    full = true;
  }
  consumer.join();
  return sum == static_cast<long>(kIterations) * (kIterations - 1) / 2 ? 0 : 1;
}

// The bug TSan must still see: each thread locks a different mutex.
int Race() {
  absl::Mutex a, b;
  long value = 0;
  std::thread t1([&] {
    absl::MutexLock lock(&a);
    ++value;
  });
  std::thread t2([&] {
    absl::MutexLock lock(&b);
    ++value;
  });
  t1.join();
  t2.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "mutex") == 0) return GuardedCounter();
  if (std::strcmp(mode, "reader") == 0) return ReaderWriter();
  if (std::strcmp(mode, "wait") == 0) return Handoff();
  if (std::strcmp(mode, "race") == 0) return Race();
  std::fprintf(stderr, "usage: tsan_probe mutex|reader|wait|race\n");
  return 2;
}
