// MUTANT note-loses-early-wakeup: wakeup() only wakes a sleeper that is
// already waiting. The word is 0 (idle), 2 (a sleeper waits) or 1 (woken);
// a wakeup() that finds 0 — nobody asleep yet — is simply dropped, so a
// sleep() that starts afterwards waits forever. This is the "lost wake-up"
// a condition variable without a predicate suffers from.
#include <stdexcept>

#include "gort/futex.hpp"
#include "gort/note.hpp"

namespace gort::os {

void Note::clear() noexcept { key_.store(0); }

void Note::wakeup() {
  std::uint32_t expected = 2;
  if (key_.compare_exchange_strong(expected, 1)) futex_wake(&key_, 1);
  // else: nobody is sleeping yet, and the wake-up is lost (the bug)
}

void Note::sleep() {
  key_.store(2);
  while (key_.load() == 2) futex_wait(&key_, 2);
}

bool Note::sleep_for(std::chrono::nanoseconds timeout) {
  key_.store(2);
  if (timeout > std::chrono::nanoseconds::zero()) futex_wait(&key_, 2, timeout);
  std::uint32_t expected = 2;
  return !key_.compare_exchange_strong(expected, 0);
}

bool Note::signaled() const noexcept { return key_.load() == 1; }

}  // namespace gort::os
