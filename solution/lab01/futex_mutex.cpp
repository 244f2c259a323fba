// Lab 01 (solution) — FutexMutex: Drepper's three-state futex mutex.
//
// Word states: 0 unlocked; 1 locked, nobody waits; 2 locked, somebody may
// wait. The rules that make it correct:
//   * the uncontended lock is one compare-exchange 0 -> 1, the uncontended
//     unlock one fetch_sub 1 -> 0: no system call at all;
//   * a thread that is about to sleep first swaps the word to 2 (exchange),
//     so the owner's unlock sees "maybe waiters" and makes the futex_wake
//     call; the kernel only lets it sleep while the word is still 2;
//   * a woken waiter takes the lock with exchange(2), not 0 -> 1: it cannot
//     know whether other sleepers remain, so it conservatively keeps "2"
//     (at worst one unneeded futex_wake later).
// Before sleeping, lock() spins briefly: a critical section is usually a few
// dozen instructions, so on a multi-core machine the owner is likely to
// release the word sooner than a sleep + wake round trip (~several µs) would
// take. The spin only reads the word (no cache-line ping-pong from writes)
// and is short enough not to matter when the owner has been preempted.
//
// Rejected: a "1 = locked" two-state word (every unlock must then call
// futex_wake, because it cannot tell whether anybody sleeps), and
// check-then-set with a separate load and store (two threads can both see 0).
#include "os/futex_mutex.hpp"

#include "os/futex.hpp"

namespace gort::os {
namespace {

constexpr int kSpinIterations = 100;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace

bool FutexMutex::try_lock() noexcept {
  std::uint32_t expected = 0;
  return word_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed);
}

void FutexMutex::lock() {
  std::uint32_t c = 0;
  if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
    return;  // fast path: it was free
  }
  // Spin while the owner holds it without sleepers (state 1): it will likely
  // let go soon. With state 2 there are already sleepers; join them.
  for (int i = 0; i < kSpinIterations && c == 1; ++i) {
    cpu_relax();
    c = word_.load(std::memory_order_relaxed);
    if (c == 0) {
      if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        return;
      }
    }
  }
  // Slow path: announce a waiter (2) and sleep until we swap a 0 out.
  if (c != 2) c = word_.exchange(2, std::memory_order_acquire);
  while (c != 0) {
    futex_wait(&word_, 2);
    c = word_.exchange(2, std::memory_order_acquire);
  }
}

void FutexMutex::unlock() noexcept {
  if (word_.fetch_sub(1, std::memory_order_release) != 1) {
    // It was 2: somebody may sleep. Release fully, then wake one.
    word_.store(0, std::memory_order_release);
    futex_wake(&word_, 1);
  }
}

}  // namespace gort::os
