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
//     A goroutine in gort::select has one Waiter on each of its channels;
//     the queue's pop() (provided, below) hands out only the one that wins
//     the select and silently drops the others, so chan.cpp needs nothing
//     special for select (runtime/rt/select.cpp, Go's selectgo).
//   * `closed`.
// Invariants: recvq holds a Waiter that pop() would return ⇒ count == 0;
// sendq holds one ⇒ count == capacity (an unbuffered channel is always both
// "empty" and "full").
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
/// Queued in a WaiterQueue (gort/sync.hpp) or, on a channel, a ChanWaitQueue:
/// push(w), pop(), empty().
struct Waiter {
  rt::G* g = nullptr;      ///< the parked goroutine
  void* elem = nullptr;    ///< its element slot: the value to send, or where to receive
  bool success = false;    ///< set by the waker: true = element transferred, false = closed
  Waiter* next = nullptr;  ///< FIFO link
  Waiter* prev = nullptr;  ///< ChanWaitQueue only: the backward link
  /// gort::select only (null otherwise): the select's "done" word, shared by
  /// the Waiters it queued on every case's channel. ChanWaitQueue::pop
  /// claims a select Waiter by CAS-ing it from null to that Waiter; a Waiter
  /// whose select another channel already won is dropped, not returned.
  std::atomic<Waiter*>* select_done = nullptr;
};

/// A channel's queue of parked goroutines (recvq, sendq): a FIFO of Waiters,
/// doubly linked so that a select can take its Waiters back out of the
/// channels it did not win (Go's waitq with dequeue/dequeueSudoG). Guarded
/// by the channel's lock. Provided with Lab 03 (runtime/rt/select.cpp is its
/// other user): chan.cpp only needs push and pop.
struct ChanWaitQueue {
  Waiter* head = nullptr;
  Waiter* tail = nullptr;

  /// Appends @p w.
  void push(Waiter* w) noexcept {
    w->next = nullptr;
    w->prev = tail;
    if (tail) {
      tail->next = w;
    } else {
      head = w;
    }
    tail = w;
  }
  /// Removes and returns the oldest Waiter the caller may complete, or
  /// nullptr if none. A select's Waiter is returned only if this pop wins
  /// its select (whose other Waiters then stay queued until the select
  /// takes them out); one whose select is already decided is dropped and
  /// the next one tried. The caller owns the returned Waiter: it fills in
  /// elem and success and readies w->g.
  Waiter* pop() noexcept {
    for (;;) {
      Waiter* w = head;
      if (!w) return nullptr;
      unlink(w);
      if (w->select_done) {
        Waiter* none = nullptr;
        if (!w->select_done->compare_exchange_strong(none, w, std::memory_order_acq_rel,
                                                     std::memory_order_acquire)) {
          continue;  // its select was won on another channel
        }
      }
      return w;
    }
  }
  /// Takes @p w out if it is still queued here (a select's Waiter that lost);
  /// does nothing if a pop already took it.
  void remove(Waiter* w) noexcept {
    if (w->prev || head == w) unlink(w);
  }
  /// True if nothing is queued (select Waiters that already lost included).
  bool empty() const noexcept { return head == nullptr; }

 private:
  void unlink(Waiter* w) noexcept {
    if (w->prev) {
      w->prev->next = w->next;
    } else {
      head = w->next;
    }
    if (w->next) {
      w->next->prev = w->prev;
    } else {
      tail = w->prev;
    }
    w->next = w->prev = nullptr;
  }
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
  ChanWaitQueue recvq;           ///< parked receivers
  ChanWaitQueue sendq;           ///< parked senders
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

// ---- provided, runtime/rt/select.cpp: the non-blocking halves of send and
// receive, for gort::select and the timers. The caller holds c->lock; a G
// to wake is returned in *wake, to be readied after every lock is released.

/// Send without blocking on an open channel (the caller has checked
/// c->closed): hands the element at @p elem to a parked receiver (*wake =
/// its G) or buffers it, and returns true; returns false (nothing done)
/// when it would block.
bool chan_try_send_locked(ChanCore* c, void* elem, rt::G** wake);
/// Receive without blocking into the uninitialised slot @p out: from a
/// parked sender (*wake = its G) or the buffer (*ok = true), or closed and
/// drained (*ok = false); returns false (nothing done) when it would block.
bool chan_try_recv_locked(ChanCore* c, void* out, bool* ok, rt::G** wake);

/// park()'s unlock function for channels: releases c->lock on g0, after the
/// parking goroutine's context is saved. Always returns true.
bool chan_park_unlock(rt::G* gp, void* chan) noexcept;

/// Panics if not called from a goroutine ("gort::Chan::<op> called outside gort::run").
void chan_require_goroutine(const char* op);

}  // namespace gort::detail
