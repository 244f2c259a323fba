// Lab 01 (solution) — Note: a one-shot event in one futex word.
//
// The whole design is the state word: 0 = not signalled, 1 = signalled.
//   * wakeup() atomically swaps the word to 1 *first*, then asks the kernel to
//     wake whoever sleeps on it. Because the word changes before the wake, a
//     sleeper that has not reached the kernel yet cannot miss it:
//   * sleep() only ever asks the kernel to sleep "while the word is still 0";
//     the kernel re-checks that under its own hash-bucket lock, so a wakeup()
//     that slipped in between our load and the futex call turns the sleep into
//     an immediate return (FutexWait::mismatch).
// This is the Go runtime's futex note (lock_futex.go: notewakeup swaps key to
// 1 and calls futexwakeup; notesleep loops on futexsleep while key == 0).
//
// Rejected alternatives: a condition variable needs a mutex and a predicate
// anyway (the predicate *is* this word); a semaphore counts, while a Note must
// catch a runtime bug that posts two wake-ups (Go throws "double wakeup").
// No spinning before the sleep: an M that parks on a Note expects to sleep
// for a while, and a spin only burns the CPU another M could use.
#include "os/note.hpp"

#include <stdexcept>

#include "os/futex.hpp"

namespace gort::os {

void Note::clear() noexcept { key_.store(0, std::memory_order_relaxed); }

void Note::wakeup() {
  // acq_rel: the sleeper that sees 1 also sees everything we wrote before.
  std::uint32_t old = key_.exchange(1, std::memory_order_acq_rel);
  if (old != 0) {
    throw std::logic_error(
        "gort::os::Note::wakeup: double wakeup (the note was already signalled; "
        "clear() it before reusing it, and wake each sleep at most once)");
  }
  futex_wake(&key_, 1);
}

void Note::sleep() {
  while (key_.load(std::memory_order_acquire) == 0) {
    // woken, mismatch, interrupted: all mean "look at the word again".
    futex_wait(&key_, 0);
  }
}

bool Note::sleep_for(std::chrono::nanoseconds timeout) {
  using clock = std::chrono::steady_clock;
  if (key_.load(std::memory_order_acquire) != 0) return true;
  if (timeout <= std::chrono::nanoseconds::zero()) return false;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    // The futex timeout is relative: recompute it after every early return
    // (spurious wake-up, signal) so the total wait never exceeds @p timeout.
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - clock::now());
    if (left <= std::chrono::nanoseconds::zero()) break;
    futex_wait(&key_, 0, left);
    if (key_.load(std::memory_order_acquire) != 0) return true;
  }
  return key_.load(std::memory_order_acquire) != 0;
}

bool Note::signaled() const noexcept { return key_.load(std::memory_order_acquire) != 0; }

}  // namespace gort::os
