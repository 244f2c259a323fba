// Lab 01, task 1 — Note: a one-shot event in one futex word.
//
// Read runtime/os/note.hpp (the contract) and runtime/os/futex.hpp (the two system calls
// you build on). The state word key_ is 0 (not signalled) or 1 (signalled).
// The property everything later depends on: a wakeup() that happens before
// the sleep() must not be lost. Ask yourself, for every line you write, "what
// if the other thread runs right here?" — see the handout, section "Futexes".
#include "os/note.hpp"

#include <stdexcept>

#include "not_implemented.hpp"
#include "os/futex.hpp"

namespace gort::os {

// Provided.
void Note::clear() noexcept { key_.store(0, std::memory_order_relaxed); }

// Provided.
bool Note::signaled() const noexcept { return key_.load(std::memory_order_acquire) != 0; }

void Note::wakeup() {
  // TODO(lab 01, task 1): signal the note and wake the sleeper, if any.
  // Throw std::logic_error("double wakeup ...") if it was already signalled.
  throw gort::NotImplemented("lab 01 task 1: Note::wakeup");
}

void Note::sleep() {
  // TODO(lab 01, task 1): block until the note is signalled (return at once
  // if it already is). futex_wait can return early: re-check the word.
  throw gort::NotImplemented("lab 01 task 1: Note::sleep");
}

bool Note::sleep_for(std::chrono::nanoseconds timeout) {
  // TODO(lab 01, task 1): like sleep(), but give up after `timeout` and return
  // false. The futex timeout is relative: after an early return, wait only
  // for what is left of the time.
  (void)timeout;
  throw gort::NotImplemented("lab 01 task 1: Note::sleep_for");
}

}  // namespace gort::os
