// gort::WaitGroup and gort::Mutex — Go's sync.WaitGroup and sync.Mutex for
// goroutines (provided with Lab 03; runtime/rt/sync.cpp).
//
// Both block by *parking the goroutine*, never the OS thread: a goroutine
// waiting for a lock or a counter gives its thread (its M) and processor (P)
// back to the scheduler, which runs other goroutines meanwhile. A waiter sits
// in a FIFO queue protected by a short internal lock and is readied by the
// goroutine that releases it (Go uses a semaphore table keyed by address; a
// queue inside the object is simpler and just as correct here).
// Like Go's, neither may be copied or moved once in use.
#pragma once

#include <atomic>
#include <cstdint>

namespace gort {

namespace detail {
struct WaitQueue {
  std::atomic<std::uint32_t> lock{0};  ///< spin lock word of the queue
  void* head = nullptr;                ///< first parked waiter (runtime-private type)
  void* tail = nullptr;                ///< last parked waiter
};
}  // namespace detail

/// Waits for a collection of goroutines to finish (Go's sync.WaitGroup).
class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  /// Adds @p n (may be negative) to the counter; when it reaches zero every
  /// goroutine blocked in wait() is readied. Panics ("panic: sync: negative
  /// WaitGroup counter", exit 2) if the counter would go below zero. Never blocks.
  void add(int n = 1);
  /// add(-1).
  void done();
  /// Parks the calling goroutine until the counter is zero; returns at once
  /// if it already is. Throws std::logic_error outside gort::run.
  void wait();

 private:
  std::atomic<std::int64_t> count_{0};
  detail::WaitQueue waiters_;
};

/// A mutual-exclusion lock for goroutines (Go's sync.Mutex); works with
/// std::lock_guard / std::unique_lock. Not recursive. Hand-off is FIFO among
/// parked waiters, so no goroutine starves.
class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  /// Takes the lock, parking the calling goroutine while another holds it.
  /// Throws std::logic_error outside gort::run when it would have to wait.
  void lock();
  /// Takes the lock if it is free; never blocks.
  bool try_lock() noexcept;
  /// Releases the lock, handing it to the longest-waiting goroutine if any.
  /// "fatal error: sync: unlock of unlocked mutex" (exit 2) if it is not locked.
  void unlock();

 private:
  std::atomic<std::uint32_t> state_{0};  ///< 0 free, 1 locked, 2 locked with waiters
  detail::WaitQueue waiters_;
};

}  // namespace gort
