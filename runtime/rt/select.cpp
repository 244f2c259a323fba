// gort::select (provided runtime; gort/select.hpp is the public side): Go's
// runtime.selectgo over the channel core of Lab 03 (runtime/rt/chan_core.hpp).
//
// One select, in three passes (Go's names in parentheses):
//   0. Orders. `pollorder` is a uniformly random permutation of the cases
//      (inside-out Fisher-Yates on the P's fast random numbers): the first
//      ready case found in it is a uniform choice among the ready ones.
//      `lockorder` is the distinct channels sorted by address: every select
//      (and every single-channel operation, which takes one lock) locks in
//      one global order, so two selects over the same channels never
//      deadlock on each other's locks; a channel named by two cases is
//      locked once.
//   1. With every channel locked, walk pollorder and perform the first case
//      that can proceed now — the same checks as chan.cpp's fast paths
//      (chan_try_send_locked / chan_try_recv_locked below). If one does,
//      unlock all and ready the partner it woke, if any. If none and there is
//      a default, unlock all and return -1.
//   2. Otherwise queue one Waiter (Go's sudog) per case on its channel's
//      recvq or sendq — all on this goroutine's stack, all pointing at one
//      atomic "done" word — and park once. The unlock function (selparkcommit)
//      releases the channels on g0, after the goroutine is off its stack, so
//      no waker can ready it before it has parked.
//   3. Whoever wakes it (a sender, a receiver or close, through
//      ChanWaitQueue::pop) first CAS-ed the done word from null to the Waiter
//      it popped: that Waiter is the winner, and every other channel's pop
//      drops this select's Waiters from then on. On wake, lock all again,
//      take the losing Waiters out of their queues (if a pop has not dropped
//      them already), unlock, and report the winner.
// The student's chan.cpp needs nothing for this: it pops Waiters with
// ChanWaitQueue::pop, which skips the Waiters of decided selects, and fills
// in elem/success of the one it gets as for any parked goroutine.
#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "gort/select.hpp"
#include "rt/chan_core.hpp"
#include "rt/sched.hpp"

namespace gort::detail {

bool chan_try_send_locked(ChanCore* c, void* elem, rt::G** wake) {
  if (Waiter* w = c->recvq.pop()) {
    // A receiver is parked, so the buffer is empty: hand over directly.
    c->copy_elem(w->elem, elem);
    w->success = true;
    *wake = w->g;
    return true;
  }
  if (c->count < c->capacity) {
    c->copy_elem(c->slot(c->sendx), elem);
    if (++c->sendx == c->capacity) c->sendx = 0;
    ++c->count;
    return true;
  }
  return false;
}

bool chan_try_recv_locked(ChanCore* c, void* out, bool* ok, rt::G** wake) {
  if (Waiter* w = c->sendq.pop()) {
    if (c->capacity == 0) {
      c->copy_elem(out, w->elem);
    } else {
      // Full buffer: take the oldest; the sender's element takes the slot
      // just freed, at the tail (sendx == recvx when full).
      c->take_elem(out, c->slot(c->recvx));
      c->copy_elem(c->slot(c->recvx), w->elem);
      if (++c->recvx == c->capacity) c->recvx = 0;
      c->sendx = c->recvx;
    }
    w->success = true;
    *wake = w->g;
    *ok = true;
    return true;
  }
  if (c->count > 0) {
    c->take_elem(out, c->slot(c->recvx));
    if (++c->recvx == c->capacity) c->recvx = 0;
    --c->count;
    *ok = true;
    return true;
  }
  if (c->closed) {
    *ok = false;
    return true;
  }
  return false;
}

namespace {

/// The distinct channels of one select, sorted by address (lockorder).
struct LockSet {
  ChanCore** chans;
  int n;
};

inline void lock_all(const LockSet& s) noexcept {
  for (int k = 0; k < s.n; ++k) s.chans[k]->lock.lock();
}
inline void unlock_all(const LockSet& s) noexcept {
  for (int k = 0; k < s.n; ++k) s.chans[k]->lock.unlock();
}

/// park()'s unlock function (Go's selparkcommit), on g0. Once the first
/// channel is unlocked the select may be woken and run on another M; it
/// cannot return (and free the LockSet on its stack) before it has locked
/// every channel again, so each next pointer is read before the current
/// lock is released, and nothing is read after the last unlock.
bool select_park_unlock(rt::G*, void* arg) noexcept {
  auto* s = static_cast<LockSet*>(arg);
  int n = s->n;
  ChanCore** chans = s->chans;
  if (n == 0) return true;
  ChanCore* c = chans[0];
  for (int k = 1; k < n; ++k) {
    ChanCore* next = chans[k];
    c->lock.unlock();
    c = next;
  }
  c->lock.unlock();
  return true;
}

/// A uniform random integer in [0, n), n > 0 (Lemire's multiply-shift; the
/// bias, below n / 2^32, does not matter for select's few cases).
std::uint32_t rand_below(std::uint32_t& state, std::uint32_t n) noexcept {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(rt::fastrand(state)) * n) >> 32);
}

constexpr int kSmall = 8;  // cases handled with stack arrays only

}  // namespace

int select_go(SelectCase* cases, int n, bool block) {
  rt::M* m = rt::current_m();  // one call for both G and P (never cached across a park)
  rt::G* gp = m ? m->curg : nullptr;
  if (gp == nullptr) {
    throw std::logic_error(
        "gort::select called outside gort::run — start the runtime with gort::run(main) "
        "first, and select from goroutines");
  }
  if (n == 0) {
    if (!block) return -1;
    // Go's `select {}`: park for good; the deadlock check counts it asleep.
    rt::park(nullptr, nullptr, WaitReason::select_no_cases);
    rt::fatal("select with no cases was woken up (runtime bug)");
  }

  // Scratch: pollorder (uint16), lockorder (channels), Waiters (raw storage:
  // constructed only if the select has to park).
  std::uint16_t poll_small[kSmall];
  ChanCore* lock_small[kSmall];
  alignas(Waiter) unsigned char wait_small[kSmall * sizeof(Waiter)];
  std::unique_ptr<std::uint16_t[]> poll_big;
  std::unique_ptr<ChanCore*[]> lock_big;
  std::unique_ptr<Waiter[]> wait_big;
  std::uint16_t* pollorder = poll_small;
  ChanCore** chans = lock_small;
  Waiter* ws = reinterpret_cast<Waiter*>(wait_small);
  if (n > kSmall) {
    poll_big.reset(new std::uint16_t[n]);
    lock_big.reset(new ChanCore*[n]);
    wait_big.reset(new Waiter[n]);
    pollorder = poll_big.get();
    chans = lock_big.get();
    ws = wait_big.get();
  }

  // Pass 0: a random poll order over the cases with a channel, and the
  // distinct channels in address order.
  std::uint32_t& rnd = m->p->rand_state;
  int npoll = 0;
  for (int i = 0; i < n; ++i) {
    if (cases[i].c == nullptr) continue;  // nil channel or the default: never ready
    std::uint32_t j = npoll == 0 ? 0 : rand_below(rnd, static_cast<std::uint32_t>(npoll + 1));
    pollorder[npoll] = pollorder[j];
    pollorder[j] = static_cast<std::uint16_t>(i);
    chans[npoll] = cases[i].c;
    ++npoll;
  }
  if (npoll <= kSmall) {
    for (int k = 1; k < npoll; ++k) {  // insertion sort: a handful of cases
      ChanCore* c = chans[k];
      int m = k;
      for (; m > 0 && std::less<ChanCore*>{}(c, chans[m - 1]); --m) chans[m] = chans[m - 1];
      chans[m] = c;
    }
  } else {
    std::sort(chans, chans + npoll, std::less<ChanCore*>{});
  }
  LockSet locks{chans, static_cast<int>(std::unique(chans, chans + npoll) - chans)};

  // Pass 1: the first case of pollorder that can proceed now.
  lock_all(locks);
  for (int k = 0; k < npoll; ++k) {
    SelectCase& sc = cases[pollorder[k]];
    rt::G* wake = nullptr;
    bool done;
    if (sc.is_send) {
      if (sc.c->closed) {
        unlock_all(locks);
        rt::panic("send on closed channel");
      }
      done = chan_try_send_locked(sc.c, sc.elem, &wake);
    } else {
      done = chan_try_recv_locked(sc.c, sc.elem, &sc.ok, &wake);
    }
    if (done) {
      unlock_all(locks);
      if (wake) rt::ready(wake);
      return pollorder[k];
    }
  }
  if (!block) {
    unlock_all(locks);
    return -1;
  }

  // Pass 2: one Waiter per case, then park once (the channels are unlocked
  // by select_park_unlock, on g0).
  std::atomic<Waiter*> done{nullptr};
  for (int i = 0; i < n; ++i) {
    SelectCase& sc = cases[i];
    if (sc.c == nullptr) continue;
    Waiter& w = *::new (&ws[i]) Waiter;
    w.g = gp;
    w.elem = sc.elem;
    w.success = false;
    w.select_done = &done;
    (sc.is_send ? sc.c->sendq : sc.c->recvq).push(&w);
  }
  rt::park(select_park_unlock, &locks, WaitReason::select);

  // Pass 3: the waker's pop chose `winner`; take the others back out.
  Waiter* winner = done.load(std::memory_order_acquire);
  if (winner == nullptr) rt::fatal("select woken without a winning case (runtime bug)");
  lock_all(locks);
  for (int i = 0; i < n; ++i) {
    SelectCase& sc = cases[i];
    if (sc.c == nullptr || &ws[i] == winner) continue;
    (sc.is_send ? sc.c->sendq : sc.c->recvq).remove(&ws[i]);
  }
  unlock_all(locks);
  int chosen = static_cast<int>(winner - ws);
  SelectCase& sc = cases[chosen];
  if (sc.is_send) {
    if (!winner->success) rt::panic("send on closed channel");  // closed while we waited
  } else {
    sc.ok = winner->success;
  }
  return chosen;
}

}  // namespace gort::detail
