// gort::WaitGroup and gort::Mutex — Go's sync.WaitGroup and sync.Mutex for
// goroutines (provided with Lab 03; runtime/rt/sync.cpp).
//
// Both block by *parking the goroutine*, never the OS thread: a goroutine
// waiting for a lock or a counter gives its thread (its M) and processor (P)
// back to the scheduler, which runs other goroutines meanwhile. A waiter sits
// in a FIFO queue inside the object and is readied by the goroutine that
// releases it (Go uses a semaphore table keyed by address; a queue inside the
// object is simpler and just as correct here).
//
// Each object keeps its whole state — counter or lock bits, and a spin-lock
// bit guarding the queue — in one atomic word, so the call that finally
// releases a waiter ends with a single store after which it never touches
// the object again: the usual pattern of freeing a WaitGroup as soon as
// wait() returns, or a Mutex right after its last unlock(), is safe.
// Like Go's, neither may be copied or moved once in use.
#pragma once

#include <atomic>
#include <cstdint>

namespace gort {

namespace detail {

/// A parked goroutine waiting in a queue (runtime-private; defined in
/// runtime/rt/chan_core.hpp, shared by channels, WaitGroup and Mutex).
struct Waiter;

/// An intrusive FIFO of nodes linked through their `next` member; the
/// nodes live elsewhere (a Waiter lives on its parked goroutine's stack).
/// Not synchronised: its owner guards it with a lock.
template <class Node>
struct IntrusiveFifo {
  Node* head = nullptr;  ///< oldest node, or nullptr
  Node* tail = nullptr;  ///< newest node, or nullptr
  /// Appends @p n.
  void push(Node* n) noexcept {
    n->next = nullptr;
    if (tail) {
      tail->next = n;
    } else {
      head = n;
    }
    tail = n;
  }
  /// Removes and returns the oldest node, or nullptr if empty.
  Node* pop() noexcept {
    Node* n = head;
    if (n) {
      head = n->next;
      if (!head) tail = nullptr;
    }
    return n;
  }
  /// Removes every node; returns the oldest, the rest follow through `next`.
  Node* take_all() noexcept {
    Node* n = head;
    head = tail = nullptr;
    return n;
  }
  /// True if no node is queued.
  bool empty() const noexcept { return head == nullptr; }
};

/// The queue of parked goroutines used by channels, WaitGroup and Mutex.
using WaiterQueue = IntrusiveFifo<Waiter>;

}  // namespace detail

/// Waits for a collection of goroutines to finish (Go's sync.WaitGroup).
class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  /// Adds @p n (may be negative) to the counter; when it reaches zero every
  /// goroutine blocked in wait() is readied. Never blocks. Panics ("panic:
  /// sync: negative WaitGroup counter", exit 2) if the counter would go below
  /// zero. Callable from any thread, but bringing the counter to zero while a
  /// goroutine waits needs a goroutine (someone must ready the waiter):
  /// outside gort::run that throws std::logic_error and changes nothing.
  /// Once a call has brought the counter to zero, it no longer touches the
  /// WaitGroup, so a waiter may destroy it as soon as wait() returns.
  void add(int n = 1);
  /// add(-1).
  void done();
  /// Parks the calling goroutine until the counter is zero; returns at once
  /// if it already is. Throws std::logic_error outside gort::run when it
  /// would have to wait.
  void wait();

 private:
  /// counter << 1 | queue-lock bit. The counter only reaches zero in a store
  /// that also releases the queue lock (see sync.cpp).
  std::atomic<std::uint64_t> state_{0};
  detail::WaiterQueue waiters_;  ///< parked in wait(); guarded by the queue-lock bit
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
  /// "fatal error: sync: unlock of unlocked mutex" (exit 2) if it is not
  /// locked. Handing it to a waiter needs a goroutine: from a plain thread
  /// that throws std::logic_error and changes nothing (the lock stays held).
  /// Its last access to the Mutex is the store that releases or hands over
  /// the lock, so the next owner may destroy it as soon as it has unlocked.
  void unlock();

 private:
  /// Bits: locked, waiters queued, queue lock (see sync.cpp).
  std::atomic<std::uint32_t> state_{0};
  detail::WaiterQueue waiters_;  ///< parked in lock(); guarded by the queue-lock bit
};

}  // namespace gort
