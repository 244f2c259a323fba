// gort::WaitGroup and gort::Mutex (provided with Lab 03): goroutine-parking
// synchronisation built on park/ready. See gort/sync.hpp.
//
// Each object is one atomic state word plus a FIFO of parked goroutines
// (detail::WaiterQueue, the queue channels use). One bit of the word is a
// tiny spin lock guarding the queue: held for a few instructions, never
// across a park — park's unlock function releases it on g0, after the waiter
// is off its stack (the same no-lost-wake-up argument as for channels).
//
// Keeping the lock bit in the same word as the counter (WaitGroup) or the
// lock bits (Mutex) is what makes freeing safe. The caller that releases the
// object — the done() that brings the counter to zero, the unlock() that
// frees the mutex or hands it over — ends with ONE store that publishes the
// new state and releases the queue lock together, and touches neither the
// object nor its queue after it. A goroutine that observes that state (the
// waiter seeing zero, the next owner taking the lock) may free the object
// at once: nothing else is still on its way to it. (Two separate words —
// "counter is zero", then "queue unlocked" — leave a window in which the
// object is already free but still written to.)
#include <stdexcept>

#include "gort/gort.hpp"
#include "os/sys.hpp"
#include "rt/chan_core.hpp"
#include "rt/sched.hpp"
#include "rt/sysmon.hpp"

namespace gort {

namespace {

using detail::Waiter;

void require_goroutine(const char* what) {
  if (rt::current_g() == nullptr) detail::throw_outside_run(what);
  rt::preempt_point();  // Lab 05: WaitGroup::wait and a waiting Mutex::lock are scheduling points
}

// ---- WaitGroup: state = counter << 1 | kWgQueue ------------------------------
//
// Invariant: the queue lock is taken only while the counter is non-zero, and
// while it is held the counter does not change (add() waits for the bit to
// clear). So the counter reaches zero only in the holder's final store, and
// "counter zero" is the single state word value 0.
constexpr std::uint64_t kWgQueue = 1;

bool wg_park_unlock(rt::G*, void* state) noexcept {
  static_cast<std::atomic<std::uint64_t>*>(state)->fetch_and(~kWgQueue, std::memory_order_release);
  return true;
}

// ---- Mutex: state bits -------------------------------------------------------
//
// Invariants: kMuWaiters ⇔ the queue is non-empty (both change only under
// kMuQueue); kMuWaiters or kMuQueue ⇒ kMuLocked (a waiter queues only behind
// a holder, and unlock hands the lock over instead of freeing it), so a free
// mutex is the value 0.
constexpr std::uint32_t kMuLocked = 1;   // someone owns the mutex
constexpr std::uint32_t kMuWaiters = 2;  // goroutines are parked in lock()
constexpr std::uint32_t kMuQueue = 4;    // spin lock of the waiter queue

bool mutex_park_unlock(rt::G*, void* state) noexcept {
  static_cast<std::atomic<std::uint32_t>*>(state)->fetch_and(~kMuQueue, std::memory_order_release);
  return true;
}

}  // namespace

void WaitGroup::add(int n) {
  if (n == 0) return;
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (s & kWgQueue) {  // a waiter is queueing, or another add() is releasing
      os::cpu_relax();
      s = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int64_t c = static_cast<std::int64_t>(s >> 1) + n;
    if (c < 0) rt::panic("sync: negative WaitGroup counter");
    if (c != 0) {
      // Nobody is released: one CAS, and this call is done with the object.
      if (state_.compare_exchange_weak(s, static_cast<std::uint64_t>(c) << 1,
                                       std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    // This call brings the counter to zero: take the queue first.
    if (state_.compare_exchange_weak(s, s | kWgQueue, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      break;
    }
  }
  // The counter is frozen at -n and the queue is ours. Readying a waiter
  // needs a goroutine: outside gort::run, give the lock back and throw
  // before changing anything (the waiters stay parked for a proper done()).
  if (!waiters_.empty() && rt::current_g() == nullptr) {
    state_.store(s, std::memory_order_release);
    detail::throw_outside_run("WaitGroup::add");
  }
  Waiter* w = waiters_.take_all();
  // Counter zero and queue unlocked in one store. From here on a waiter may
  // see zero, return from wait() and free *this: only the Waiters (on the
  // stacks of goroutines still parked until ready()) are touched below.
  state_.store(0, std::memory_order_release);
  while (w) {
    Waiter* next = w->next;  // w dies once its goroutine runs
    rt::ready(w->g);
    w = next;
  }
}

void WaitGroup::done() { add(-1); }

void WaitGroup::wait() {
  std::uint64_t s = state_.load(std::memory_order_acquire);
  if (s == 0) return;  // zero, and the add() that zeroed it is finished with *this
  require_goroutine("WaitGroup::wait");
  for (;;) {
    if (s == 0) return;
    if (s & kWgQueue) {
      os::cpu_relax();
      s = state_.load(std::memory_order_acquire);
      continue;
    }
    if (state_.compare_exchange_weak(s, s | kWgQueue, std::memory_order_acquire,
                                     std::memory_order_acquire)) {
      break;
    }
  }
  // The counter is non-zero and cannot reach zero until we are parked.
  Waiter w;
  w.g = rt::current_g();
  waiters_.push(&w);
  rt::park(wg_park_unlock, &state_, WaitReason::wait_group);
  // Readied by the add() that zeroed the counter, after its last access to *this.
}

bool Mutex::try_lock() noexcept {
  std::uint32_t zero = 0;
  return state_.compare_exchange_strong(zero, kMuLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

void Mutex::lock() {
  if (try_lock()) return;
  require_goroutine("Mutex::lock");
  std::uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (!(s & kMuLocked)) {  // freed meanwhile: take it
      if (state_.compare_exchange_weak(s, kMuLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    if (s & kMuQueue) {
      os::cpu_relax();
      s = state_.load(std::memory_order_relaxed);
      continue;
    }
    // Locked: take the queue and announce a waiter in one step.
    if (state_.compare_exchange_weak(s, s | kMuQueue | kMuWaiters, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      break;
    }
  }
  // kMuWaiters is set, so unlock() needs the queue we hold: the mutex stays
  // locked at least until we are parked.
  Waiter w;
  w.g = rt::current_g();
  waiters_.push(&w);
  rt::park(mutex_park_unlock, &state_, WaitReason::mutex);
  // unlock() handed the lock to us directly (FIFO hand-off).
}

void Mutex::unlock() {
  std::uint32_t s = kMuLocked;
  if (state_.compare_exchange_strong(s, 0, std::memory_order_release, std::memory_order_relaxed)) {
    return;  // nobody waits: that CAS was the last access
  }
  for (;;) {
    if (!(s & kMuLocked)) rt::fatal("sync: unlock of unlocked mutex");
    if (s == kMuLocked) {  // the last waiter left meanwhile
      if (state_.compare_exchange_weak(s, 0, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    if (s & kMuQueue) {
      os::cpu_relax();
      s = state_.load(std::memory_order_relaxed);
      continue;
    }
    if (state_.compare_exchange_weak(s, s | kMuQueue, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      break;
    }
  }
  // The queue is ours and not empty (kMuWaiters). Handing over needs a
  // goroutine to ready the waiter: outside gort::run, release the queue and
  // throw with the mutex unchanged (still locked, the waiter still queued).
  if (rt::current_g() == nullptr) {
    state_.fetch_and(~kMuQueue, std::memory_order_release);
    detail::throw_outside_run("Mutex::unlock");
  }
  Waiter* w = waiters_.pop();
  rt::G* g = w->g;
  // Hand over: the mutex stays locked, now on g's behalf; this one store also
  // releases the queue and is the last access to *this.
  state_.store(waiters_.empty() ? kMuLocked : kMuLocked | kMuWaiters, std::memory_order_release);
  rt::ready(g);
}

}  // namespace gort
