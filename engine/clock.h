// engine/clock.h
//
// The engine's source of "now". Injectable so that tests control time exactly; the
// engine reads it only when deciding a mutation, and records the time it used in
// the mutation, so replay never reads a clock.
//
// Thread-safety: Now() may be called from any thread. FakeClock's setters are
// thread-safe too (an atomic), so a test may move time while workers run.
#ifndef ATTRIB_ENGINE_CLOCK_H_
#define ATTRIB_ENGINE_CLOCK_H_

#include <atomic>
#include <chrono>

#include "engine/types.h"

namespace attrib::engine {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs NowMs() const = 0;
};

// Wall-clock time (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  TimeMs NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A process-wide instance; lives forever.
  static SystemClock* Get() {
    static SystemClock* clock = new SystemClock();
    return clock;
  }
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeMs start) : now_(start) {}
  TimeMs NowMs() const override { return now_.load(std::memory_order_relaxed); }
  void Set(TimeMs t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(TimeMs delta) { now_.fetch_add(delta, std::memory_order_relaxed); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace attrib::engine

#endif  // ATTRIB_ENGINE_CLOCK_H_
