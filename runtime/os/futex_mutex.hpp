// Lab 01 — FutexMutex: a mutual-exclusion lock in one 32-bit word.
//
// The runtime's own locks (the global run queue's, the idle-P list's) must
// not depend on std::mutex's implementation details, and teaching the futex
// mutex shows what "uncontended lock costs one atomic instruction" means.
// The word has three states: 0 unlocked, 1 locked with no waiters, 2 locked
// and maybe waiters (Drepper, "Futexes Are Tricky", mutex #2). unlock() only
// enters the kernel when the word says 2.
//
// These lock OS threads, not goroutines: a goroutine that must wait for a
// lock uses gort::Mutex (Lab 03), which parks the goroutine instead.
#pragma once

#include <atomic>
#include <cstdint>

namespace gort::os {

/// A non-recursive mutex for OS threads, usable with std::lock_guard.
class FutexMutex {
 public:
  /// Blocks the calling thread until it owns the mutex.
  void lock();
  /// Takes the mutex if it is free; never blocks. Returns true if taken.
  bool try_lock() noexcept;
  /// Releases the mutex; the caller must own it. Wakes one waiter if any.
  void unlock() noexcept;

 private:
  std::atomic<std::uint32_t> word_{0};
};

}  // namespace gort::os
