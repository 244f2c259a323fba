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
// the goroutine is off its stack, so the partner that dequeues the Waiter
// can ready() it at once without a lost wake-up or a double resume.
// The party that dequeues a Waiter owns it: it fills in the element and
// `success`, and it alone readies the goroutine. A parked goroutine therefore
// never re-checks the channel: when it runs again, its Waiter says what
// happened (success = false: the channel was closed).
// Rejected alternative: waking the parked goroutine and letting it retry the
// operation — simpler, but it can lose races to newcomers (starvation) and
// costs an extra lock round-trip per hand-off.
#include <mutex>

#include "rt/chan_core.hpp"
#include "rt/sched.hpp"

namespace gort::detail {

void chan_send(ChanCore* c, void* elem) {
  chan_require_goroutine("send");
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    rt::panic("send on closed channel");
  }
  if (Waiter* w = c->recvq.pop()) {
    // A receiver is parked, so the buffer is empty: hand over directly.
    c->copy_elem(w->elem, elem);
    w->success = true;
    rt::G* gp = w->g;
    c->lock.unlock();
    rt::ready(gp);
    return;
  }
  if (c->count < c->capacity) {
    c->copy_elem(c->slot(c->sendx), elem);
    if (++c->sendx == c->capacity) c->sendx = 0;
    ++c->count;
    c->lock.unlock();
    return;
  }
  Waiter w;
  w.g = rt::current_g();
  w.elem = elem;
  c->sendq.push(&w);
  rt::park(chan_park_unlock, c, WaitReason::chan_send);
  // A receiver took the element, or close() woke us.
  if (!w.success) rt::panic("send on closed channel");
}

bool chan_recv(ChanCore* c, void* out) {
  chan_require_goroutine("recv");
  c->lock.lock();
  if (Waiter* w = c->sendq.pop()) {
    if (c->capacity == 0) {
      c->copy_elem(out, w->elem);
    } else {
      // Full buffer: take the oldest, the sender's element goes to the tail
      // (which is the slot just freed: sendx == recvx when full).
      c->take_elem(out, c->slot(c->recvx));
      c->copy_elem(c->slot(c->recvx), w->elem);
      if (++c->recvx == c->capacity) c->recvx = 0;
      c->sendx = c->recvx;
    }
    w->success = true;
    rt::G* gp = w->g;
    c->lock.unlock();
    rt::ready(gp);
    return true;
  }
  if (c->count > 0) {
    c->take_elem(out, c->slot(c->recvx));
    if (++c->recvx == c->capacity) c->recvx = 0;
    --c->count;
    c->lock.unlock();
    return true;
  }
  if (c->closed) {
    c->lock.unlock();
    return false;
  }
  Waiter w;
  w.g = rt::current_g();
  w.elem = out;
  c->recvq.push(&w);
  rt::park(chan_park_unlock, c, WaitReason::chan_receive);
  return w.success;
}

void chan_close(ChanCore* c) {
  chan_require_goroutine("close");
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    rt::panic("close of closed channel");
  }
  c->closed = true;
  // Collect every waiter under the lock, wake them after releasing it.
  Waiter* all = nullptr;
  while (Waiter* w = c->recvq.pop()) {
    w->success = false;
    w->next = all;
    all = w;
  }
  while (Waiter* w = c->sendq.pop()) {
    w->success = false;
    w->next = all;
    all = w;
  }
  c->lock.unlock();
  while (all) {
    Waiter* next = all->next;  // read before ready(): the Waiter dies with its frame
    rt::ready(all->g);
    all = next;
  }
}

}  // namespace gort::detail
