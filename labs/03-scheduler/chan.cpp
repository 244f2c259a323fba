// Lab 03, task 3 — channels: send, receive and close on top of park/ready.
//
// A channel is a lock, a ring buffer and two queues of parked goroutines
// (runtime/rt/chan_core.hpp). Every operation takes the lock and then
// looks, in order, for the cheapest way to complete:
//   send: closed? → panic; a receiver waiting? → copy the element straight
//         into its slot and ready it; room in the buffer? → enqueue; else park.
//   recv: a sender waiting? → take its element (unbuffered: straight from
//         its slot; buffered and full: the oldest buffered element, and the
//         sender's element takes its place at the tail) and ready it; an
//         element buffered? → take it; closed? → report closed; else park.
// A goroutine that parks puts a Waiter (on its own stack) on the queue and
// calls park() with chan_park_unlock: the lock is released on g0 only after
// the goroutine is off its stack. The party that dequeues a Waiter owns it:
// it fills in the element and `success`, and it alone readies the goroutine.
#include "not_implemented.hpp"
#include "rt/chan_core.hpp"
#include "rt/sched.hpp"

namespace gort::detail {

void chan_send(ChanCore* c, void* elem) {
  chan_require_goroutine("send");
  // TODO(lab 03, task 3): see the order above. Use c->copy_elem to move the
  // element (into a receiver's Waiter::elem or a buffer slot), rt::ready to
  // wake a receiver (after unlocking), rt::park(chan_park_unlock, c,
  // WaitReason::chan_send) to block, and rt::panic("send on closed channel").
  (void)c;
  (void)elem;
  throw gort::NotImplemented("lab 03 task 3: chan_send");
}

bool chan_recv(ChanCore* c, void* out) {
  chan_require_goroutine("recv");
  // TODO(lab 03, task 3): see the order above; c->take_elem moves a buffered
  // element out and frees its slot. Return false only when closed and empty.
  (void)c;
  (void)out;
  throw gort::NotImplemented("lab 03 task 3: chan_recv");
}

void chan_close(ChanCore* c) {
  chan_require_goroutine("close");
  // TODO(lab 03, task 3): panic("close of closed channel") if closed; else
  // mark closed, take every parked receiver and sender off the queues
  // (success = false), unlock, then ready them all.
  (void)c;
  throw gort::NotImplemented("lab 03 task 3: chan_close");
}

}  // namespace gort::detail
