// Lab 01 — Note: a one-shot, futex-based event.
//
// This is what an idle M sleeps on (Go: note, notesleep, notewakeup,
// noteclear in lock_futex.go): one thread sleeps until another says "wake
// up". The key property is that no wake-up is ever lost — a wakeup() that
// happens *before* the sleep() makes the sleep return at once. That is why a
// Note is a state word (0 = not signalled, 1 = signalled) and not a bare
// condition variable: the waker sets the word, the sleeper only ever sleeps
// while the word is still 0, and the kernel checks that atomically.
//
// Contract: at most one thread sleeps on a Note at a time; wakeup() is called
// at most once between clear()s; clear() only when nobody is sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gort::os {

/// A one-shot wake-up for one sleeping thread.
class Note {
 public:
  /// Resets the note to "not signalled". Call only when no thread sleeps on it.
  void clear() noexcept;

  /// Signals the note and wakes the sleeper if there is one. Any thread may
  /// call it; it never blocks. Throws std::logic_error("double wakeup") if
  /// the note is already signalled (a runtime bug: a wake-up was sent twice).
  void wakeup();

  /// Blocks the calling thread until the note is signalled; returns at once
  /// if it already is. Survives spurious futex wake-ups and signals.
  void sleep();

  /// Like sleep(), but gives up after @p timeout. Returns true if the note
  /// was signalled, false on time-out. A zero or negative timeout only checks
  /// the note. A wakeup() after a time-out still signals the note (the next
  /// sleep returns at once).
  bool sleep_for(std::chrono::nanoseconds timeout);

  /// True once wakeup() has been called since the last clear().
  bool signaled() const noexcept;

 private:
  std::atomic<std::uint32_t> key_{0};
};

}  // namespace gort::os
