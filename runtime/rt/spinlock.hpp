// SpinLock: the lock of a channel (provided with Lab 03).
//
// A channel's critical sections are a few dozen instructions, never block,
// and are never held across a goroutine switch except for the instant
// between park() and its unlock function on the other side. For such
// sections a spin lock is cheaper than Lab 01's FutexMutex: taking it is one
// atomic exchange and releasing it a plain release store (the futex mutex
// needs an atomic read-modify-write on both sides, to know whether to wake a
// sleeper). The risk of spinning — the holder's thread descheduled by the OS
// — is bounded by yielding the CPU (sched_yield) after a short spin.
// Go's runtime uses its futex-based mutex here (lock_futex.go), which also
// spins first; with only goroutine-level critical sections the difference
// is small, but it is measurable in a channel ping-pong.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

#include "os/sys.hpp"

namespace gort::rt {

/// A test-and-test-and-set lock; usable with std::lock_guard.
class SpinLock {
 public:
  /// Takes the lock, spinning (then yielding the CPU) while another holds it.
  void lock() noexcept {
    if (!word_.exchange(1, std::memory_order_acquire)) return;
    lock_slow();
  }
  /// Takes the lock if it is free; never waits.
  bool try_lock() noexcept {
    return word_.load(std::memory_order_relaxed) == 0 &&
           !word_.exchange(1, std::memory_order_acquire);
  }
  /// Releases the lock; the caller must hold it.
  void unlock() noexcept { word_.store(0, std::memory_order_release); }

 private:
  void lock_slow() noexcept {
    for (unsigned spins = 0;; ++spins) {
      while (word_.load(std::memory_order_relaxed) != 0) {
        if (++spins > 128) {
          sched_yield();
          spins = 0;
        } else {
          os::cpu_relax();
        }
      }
      if (!word_.exchange(1, std::memory_order_acquire)) return;
    }
  }
  std::atomic<std::uint32_t> word_{0};
};

}  // namespace gort::rt
