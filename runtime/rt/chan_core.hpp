// Lab 03, task 3 — the channel core (the student's chan.cpp).
//
// gort::Chan<T> (gort/chan.hpp) is a typed handle around one ChanCore. The
// core stores elements as raw bytes (elem_size each) and moves them with
// ElemOps, so chan.cpp is ordinary, non-template code.
//
// State, all under `lock` (a SpinLock: runtime/rt/spinlock.hpp says why
// not Lab 01's FutexMutex):
//   * a ring buffer of `capacity` elements: `count` of them, the oldest at
//     `recvx`, the next free slot at `sendx`;
//   * `recvq`: goroutines parked in recv, `sendq`: parked in send — FIFO
//     queues of Waiters (Go's sudog). A Waiter lives on the parked
//     goroutine's own stack, and points at that goroutine's element slot:
//     the partner copies the element straight into (or out of) it, then
//     ready()s the goroutine. Whoever dequeues a Waiter owns the wake-up.
//   * `closed`.
// Invariants: recvq non-empty ⇒ count == 0; sendq non-empty ⇒ count ==
// capacity (an unbuffered channel is always both "empty" and "full").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gort/chan.hpp"
#include "gort/sync.hpp"
#include "rt/g.hpp"
#include "rt/spinlock.hpp"

namespace gort::detail {

/// A goroutine parked on a channel (Go's sudog), or in WaitGroup::wait or
/// Mutex::lock (which use only g and next). Lives on that goroutine's stack.
/// Queued in a WaiterQueue (gort/sync.hpp): push(w), pop(), empty().
struct Waiter {
  rt::G* g = nullptr;      ///< the parked goroutine
  void* elem = nullptr;    ///< its element slot: the value to send, or where to receive
  bool success = false;    ///< set by the waker: true = element transferred, false = closed
  Waiter* next = nullptr;  ///< FIFO link
};

/// The shared state of one channel (allocated with its buffer after it).
struct ChanCore {
  std::atomic<std::int64_t> refs{1};  ///< handles (and blocked ops) referring to it
  rt::SpinLock lock;                  ///< protects everything below
  std::size_t elem_size = 0;
  std::size_t elem_align = 0;
  std::size_t capacity = 0;  ///< 0: unbuffered
  std::size_t count = 0;     ///< buffered elements (len() reads it under the lock)
  std::size_t sendx = 0;     ///< next slot to fill
  std::size_t recvx = 0;     ///< oldest element
  bool closed = false;
  const ElemOps* ops = nullptr;  ///< null: trivially copyable (memcpy)
  WaiterQueue recvq;             ///< parked receivers
  WaiterQueue sendq;             ///< parked senders
  unsigned char* buf = nullptr;  ///< capacity * elem_size bytes

  /// Address of buffer slot @p i.
  void* slot(std::size_t i) const noexcept { return buf + i * elem_size; }
  /// Move-constructs uninitialised @p dst from @p src; src stays alive
  /// (its owner — a sender's frame — destroys it).
  void copy_elem(void* dst, void* src) const noexcept {
    if (ops) {
      ops->move(dst, src);
    } else {
      copy_bytes(dst, src, elem_size);
    }
  }
  /// Move-constructs uninitialised @p dst from the buffered element at
  /// @p slot and destroys that element (the slot becomes free).
  void take_elem(void* dst, void* slot) const noexcept {
    if (ops) {
      ops->move(dst, slot);
      ops->destroy(slot);
    } else {
      copy_bytes(dst, slot, elem_size);
    }
  }

 private:
  /// memcpy, with the common element sizes as single moves (no library call).
  static void copy_bytes(void* dst, const void* src, std::size_t n) noexcept {
    switch (n) {
      case 0:
        return;
      case 1:
        std::memcpy(dst, src, 1);
        return;
      case 2:
        std::memcpy(dst, src, 2);
        return;
      case 4:
        std::memcpy(dst, src, 4);
        return;
      case 8:
        std::memcpy(dst, src, 8);
        return;
      case 16:
        std::memcpy(dst, src, 16);
        return;
      default:
        std::memcpy(dst, src, n);
    }
  }
};

/// park()'s unlock function for channels: releases c->lock on g0, after the
/// parking goroutine's context is saved. Always returns true.
bool chan_park_unlock(rt::G* gp, void* chan) noexcept;

/// Panics if not called from a goroutine ("gort::Chan::<op> called outside gort::run").
void chan_require_goroutine(const char* op);

}  // namespace gort::detail
