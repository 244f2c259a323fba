// Thin wrappers over the Linux futex system call (provided, not a lab task).
//
// A futex is a 32-bit word in user memory plus a kernel wait queue keyed by
// its address. The fast path of every primitive built on it (Note,
// FutexMutex, and later the idle-M park) is a plain atomic operation on the
// word; the kernel is entered only to sleep when the word says "wait", or to
// wake sleepers. The kernel re-checks the word before sleeping, which is what
// makes "check, then sleep" free of lost wake-ups.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gort::os {

/// Result of futex_wait().
enum class FutexWait {
  woken,       ///< woken by futex_wake (or spuriously: callers re-check the word)
  mismatch,    ///< `*word != expected` when the kernel looked: nothing to wait for
  timed_out,   ///< the relative timeout expired
  interrupted  ///< a signal arrived; callers re-check the word and retry
};

/// Sleeps while `*word == expected`, at most @p timeout if it is non-negative
/// (a negative timeout means wait forever). Any thread may call it. Never
/// throws; any error other than the four outcomes aborts with a message.
FutexWait futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                     std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1)) noexcept;

/// Wakes at most @p count threads sleeping in futex_wait on @p word; returns
/// how many were woken. Any thread may call it; it never blocks or throws.
int futex_wake(std::atomic<std::uint32_t>* word, int count) noexcept;

}  // namespace gort::os
