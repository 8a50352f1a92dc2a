// tests/tsan_absl_mutex_annotations.cc
//
// Linked into every executable of the ThreadSanitizer build (-DATTRIB_TSAN=ON, see
// the top CMakeLists.txt); never into a normal build.
//
// Why: Debian's Abseil is a shared library built without -fsanitize=thread. Its
// Mutex is implemented with uninstrumented atomics and futexes, so TSan sees no
// happens-before edge between an Unlock() and the next Lock(), and every
// ABSL_GUARDED_BY member touched by two threads would be reported as a race: a false
// report. (An Abseil built with TSan annotates itself with the same calls we use
// here; see ABSL_TSAN_MUTEX_PRE_LOCK in absl/synchronization/mutex.cc.)
//
// How: this file defines the out-of-line members of absl::Mutex, absl::CondVar and
// absl::Notification that the code can reach. The executable's definitions take
// precedence over libabsl_synchronization.so's in the dynamic lookup, also for the
// library's own calls, which go through its PLT (checked with objdump: for example
// Notification::Notify calls Mutex::Lock@plt). Each definition tells TSan what the
// call means (__tsan_mutex_pre_lock/post_lock/pre_unlock/post_unlock, so TSan also
// checks lock order and double unlocks) and forwards to the real function found with
// dlsym(RTLD_NEXT, <mangled name>). Memory accesses made inside the real calls (for
// example a waiter's absl::Condition evaluated by the unlocking thread) are ignored
// by TSan, exactly as in an instrumented Abseil.
//
// tests/tsan_probe.cc proves it: a counter guarded by one absl::Mutex is not
// reported, two threads using different mutexes are (ctest -L tsan_probe).
//
// The mangled names carry Abseil's inline namespace (Debian: "debian3", from
// ABSL_OPTION_INLINE_NAMESPACE_NAME); the static_assert below stops the build if it
// changes. `nm -D --defined-only libabsl_synchronization.so` lists the names.
//
// Thread-safety: every function may be called from any thread, like the originals.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "absl/base/config.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

static_assert(std::string_view(ABSL_INTERNAL_TOKEN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME)) ==
                  "debian3",
              "Abseil's inline namespace changed: update the mangled names in "
              "tests/tsan_absl_mutex_annotations.cc (nm -D libabsl_synchronization.so)");

namespace {

#define ATTRIB_ABSL_SYM(rest) "_ZN4absl7debian3" rest
#define ATTRIB_ABSL_CONST_SYM(rest) "_ZNK4absl7debian3" rest

// The real function `name` of libabsl_synchronization.so; aborts if it is missing
// (a silent fallback would bring every false report back).
template <typename Fn>
Fn Real(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex_annotations: dlsym(%s) failed: %s\n", name,
                 dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(p);
}

// Nonzero while this thread is inside a real Abseil call made from here. Some real
// functions call others of this file through the PLT (AwaitWithTimeout calls
// AwaitWithDeadline, Notification::Notify calls Mutex::Lock); those inner calls are
// forwarded unannotated, or one release would be reported twice.
thread_local int forwarding_depth = 0;

// Runs `call` (a real Abseil function) marked as forwarding.
template <typename Call>
auto Forward(Call call) {
  struct Scope {
    Scope() { ++forwarding_depth; }
    ~Scope() { --forwarding_depth; }
  } scope;
  return call();
}

// The mutexes this thread holds in reader mode, so that Await and CondVar::Wait,
// which release and reacquire the mutex in whatever mode it is held, tell TSan the
// right mode. Short: a thread holds few reader locks at once.
thread_local std::vector<const void*> reader_held;

void NoteReaderLocked(const void* mu) { reader_held.push_back(mu); }
void NoteReaderUnlocked(const void* mu) {
  auto it = std::find(reader_held.rbegin(), reader_held.rend(), mu);
  if (it != reader_held.rend()) reader_held.erase(std::next(it).base());
}
unsigned HeldMode(const void* mu) {
  return std::find(reader_held.begin(), reader_held.end(), mu) != reader_held.end()
             ? __tsan_mutex_read_lock
             : 0;
}

// Brackets a real call that releases `mu` and holds it again when it returns
// (Await*, CondVar::Wait*): an unlock before, a lock after.
template <typename Call>
auto ReleasedDuring(absl::Mutex* mu, Call call) {
  if (forwarding_depth > 0) return call();
  const unsigned mode = HeldMode(mu);
  __tsan_mutex_pre_unlock(mu, mode);
  __tsan_mutex_post_unlock(mu, mode);
  __tsan_mutex_pre_lock(mu, mode);
  auto result = Forward(call);
  __tsan_mutex_post_lock(mu, mode, 0);
  return result;
}

template <typename Call>
void Unlocking(absl::Mutex* mu, unsigned mode, Call call) {
  if (forwarding_depth > 0) return call();
  if (mode & __tsan_mutex_read_lock) NoteReaderUnlocked(mu);
  __tsan_mutex_pre_unlock(mu, mode);
  Forward(call);
  __tsan_mutex_post_unlock(mu, mode);
}

template <typename Call>
auto Locking(absl::Mutex* mu, unsigned mode, Call call) {
  if (forwarding_depth > 0) return call();
  __tsan_mutex_pre_lock(mu, mode);
  auto result = Forward(call);
  __tsan_mutex_post_lock(mu, mode, 0);
  if (mode & __tsan_mutex_read_lock) NoteReaderLocked(mu);
  return result;
}

template <typename Call>
bool TryLocking(absl::Mutex* mu, unsigned mode, Call call) {
  if (forwarding_depth > 0) return call();
  __tsan_mutex_pre_lock(mu, mode | __tsan_mutex_try_lock);
  const bool locked = Forward(call);
  __tsan_mutex_post_lock(
      mu, mode | __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  if (locked && (mode & __tsan_mutex_read_lock)) NoteReaderLocked(mu);
  return locked;
}

using MuFn = void (*)(absl::Mutex*);
using MuBoolFn = bool (*)(absl::Mutex*);
using MuCondFn = void (*)(absl::Mutex*, const absl::Condition&);
using MuCondDurFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Duration);
using MuCondTimeFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Time);

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// --- Mutex: exclusive ---

Mutex::~Mutex() {
  static const MuFn real = Real<MuFn>(ATTRIB_ABSL_SYM("5MutexD2Ev"));
  if (forwarding_depth == 0) __tsan_mutex_destroy(this, 0);
  real(this);
}

void Mutex::Lock() {
  static const MuFn real = Real<MuFn>(ATTRIB_ABSL_SYM("5Mutex4LockEv"));
  Locking(this, 0, [&] { real(this); return 0; });
}

bool Mutex::TryLock() {
  static const MuBoolFn real = Real<MuBoolFn>(ATTRIB_ABSL_SYM("5Mutex7TryLockEv"));
  return TryLocking(this, 0, [&] { return real(this); });
}

void Mutex::Unlock() {
  static const MuFn real = Real<MuFn>(ATTRIB_ABSL_SYM("5Mutex6UnlockEv"));
  Unlocking(this, 0, [&] { real(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  static const MuCondFn real =
      Real<MuCondFn>(ATTRIB_ABSL_SYM("5Mutex8LockWhenERKNS0_9ConditionE"));
  Locking(this, 0, [&] { real(this, cond); return 0; });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const MuCondDurFn real = Real<MuCondDurFn>(
      ATTRIB_ABSL_SYM("5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  return Locking(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const MuCondTimeFn real = Real<MuCondTimeFn>(
      ATTRIB_ABSL_SYM("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  return Locking(this, 0, [&] { return real(this, cond, deadline); });
}

// --- Mutex: shared ---

void Mutex::ReaderLock() {
  static const MuFn real = Real<MuFn>(ATTRIB_ABSL_SYM("5Mutex10ReaderLockEv"));
  Locking(this, __tsan_mutex_read_lock, [&] { real(this); return 0; });
}

bool Mutex::ReaderTryLock() {
  static const MuBoolFn real = Real<MuBoolFn>(ATTRIB_ABSL_SYM("5Mutex13ReaderTryLockEv"));
  return TryLocking(this, __tsan_mutex_read_lock, [&] { return real(this); });
}

void Mutex::ReaderUnlock() {
  static const MuFn real = Real<MuFn>(ATTRIB_ABSL_SYM("5Mutex12ReaderUnlockEv"));
  Unlocking(this, __tsan_mutex_read_lock, [&] { real(this); });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const MuCondFn real =
      Real<MuCondFn>(ATTRIB_ABSL_SYM("5Mutex14ReaderLockWhenERKNS0_9ConditionE"));
  Locking(this, __tsan_mutex_read_lock, [&] { real(this, cond); return 0; });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const MuCondDurFn real = Real<MuCondDurFn>(
      ATTRIB_ABSL_SYM("5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  return Locking(this, __tsan_mutex_read_lock, [&] { return real(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const MuCondTimeFn real = Real<MuCondTimeFn>(
      ATTRIB_ABSL_SYM("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  return Locking(this, __tsan_mutex_read_lock, [&] { return real(this, cond, deadline); });
}

// --- Mutex: waiting with the lock held ---

void Mutex::Await(const Condition& cond) {
  static const MuCondFn real =
      Real<MuCondFn>(ATTRIB_ABSL_SYM("5Mutex5AwaitERKNS0_9ConditionE"));
  ReleasedDuring(this, [&] { real(this, cond); return 0; });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const MuCondDurFn real = Real<MuCondDurFn>(
      ATTRIB_ABSL_SYM("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  return ReleasedDuring(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const MuCondTimeFn real = Real<MuCondTimeFn>(
      ATTRIB_ABSL_SYM("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  return ReleasedDuring(this, [&] { return real(this, cond, deadline); });
}

// --- CondVar: Wait releases and reacquires the mutex. Signal needs nothing: the
// waiter's reacquisition of the mutex is the happens-before edge. ---

void CondVar::Wait(Mutex* mu) {
  using Fn = void (*)(CondVar*, Mutex*);
  static const Fn real = Real<Fn>(ATTRIB_ABSL_SYM("7CondVar4WaitEPNS0_5MutexE"));
  ReleasedDuring(mu, [&] { real(this, mu); return 0; });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  using Fn = bool (*)(CondVar*, Mutex*, Duration);
  static const Fn real =
      Real<Fn>(ATTRIB_ABSL_SYM("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE"));
  return ReleasedDuring(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  using Fn = bool (*)(CondVar*, Mutex*, Time);
  static const Fn real =
      Real<Fn>(ATTRIB_ABSL_SYM("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE"));
  return ReleasedDuring(mu, [&] { return real(this, mu, deadline); });
}

// --- Notification: the waiter's fast path reads an atomic the (uninstrumented)
// Notify() wrote, so the edge is stated explicitly. ---

void Notification::Notify() {
  using Fn = void (*)(Notification*);
  static const Fn real = Real<Fn>(ATTRIB_ABSL_SYM("12Notification6NotifyEv"));
  if (forwarding_depth == 0) __tsan_release(this);
  Forward([&] { real(this); return 0; });
}

void Notification::WaitForNotification() const {
  using Fn = void (*)(const Notification*);
  static const Fn real =
      Real<Fn>(ATTRIB_ABSL_CONST_SYM("12Notification19WaitForNotificationEv"));
  Forward([&] { real(this); return 0; });
  if (forwarding_depth == 0) __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  using Fn = bool (*)(const Notification*, Duration);
  static const Fn real = Real<Fn>(
      ATTRIB_ABSL_CONST_SYM("12Notification30WaitForNotificationWithTimeoutENS0_8DurationE"));
  const bool notified = Forward([&] { return real(this, timeout); });
  if (notified && forwarding_depth == 0) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  using Fn = bool (*)(const Notification*, Time);
  static const Fn real = Real<Fn>(
      ATTRIB_ABSL_CONST_SYM("12Notification31WaitForNotificationWithDeadlineENS0_4TimeE"));
  const bool notified = Forward([&] { return real(this, deadline); });
  if (notified && forwarding_depth == 0) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
