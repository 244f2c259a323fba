// Lab 01, task 3 — FutexMutex: a mutex in one futex word.
//
// Read runtime/os/futex_mutex.hpp. The word is 0 (unlocked), 1 (locked, no
// waiters) or 2 (locked, maybe waiters). The uncontended lock and unlock must
// not enter the kernel; unlock calls futex_wake only when the word says 2.
// See the handout, section "Futexes" (Drepper's mutex).
#include "os/futex_mutex.hpp"

#include "not_implemented.hpp"
#include "os/futex.hpp"

namespace gort::os {

// try_lock() and unlock() are noexcept, so their stubs cannot throw
// NotImplemented: gort::not_implemented_abort prints the same message and aborts.

void FutexMutex::lock() {
  // TODO(lab 01, task 3): take the word from 0 to 1 atomically; if it was not
  // 0, mark it 2 and sleep until you can take it.
  throw gort::NotImplemented("lab 01 task 3: FutexMutex::lock");
}

bool FutexMutex::try_lock() noexcept {
  // TODO(lab 01, task 3): one atomic attempt 0 -> 1; never blocks.
  gort::not_implemented_abort("lab 01 task 3: FutexMutex::try_lock");
}

void FutexMutex::unlock() noexcept {
  // TODO(lab 01, task 3): release; wake one sleeper only if there may be one.
  gort::not_implemented_abort("lab 01 task 3: FutexMutex::unlock");
}

}  // namespace gort::os
