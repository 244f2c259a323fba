// gort::WaitGroup and gort::Mutex (provided with Lab 03): goroutine-parking
// synchronisation built on park/ready. See gort/sync.hpp.
//
// Each object has a queue of parked goroutines guarded by a tiny spin lock
// (held for a few instructions, never across a park: park's unlock function
// releases it on g0, after the waiter is off its stack — the same
// no-lost-wake-up argument as for channels).
#include <cstdio>
#include <stdexcept>

#include "gort/gort.hpp"
#include "rt/sched.hpp"

namespace gort {

namespace {

struct SyncWaiter {
  rt::G* g;
  SyncWaiter* next;
};

void qlock(detail::WaitQueue& q) noexcept {
  while (q.lock.exchange(1, std::memory_order_acquire) != 0) {
    while (q.lock.load(std::memory_order_relaxed) != 0) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
}

void qunlock(detail::WaitQueue& q) noexcept { q.lock.store(0, std::memory_order_release); }

bool qunlock_park(rt::G*, void* q) {
  qunlock(*static_cast<detail::WaitQueue*>(q));
  return true;
}

void qpush(detail::WaitQueue& q, SyncWaiter* w) noexcept {
  w->next = nullptr;
  if (q.tail) {
    static_cast<SyncWaiter*>(q.tail)->next = w;
  } else {
    q.head = w;
  }
  q.tail = w;
}

SyncWaiter* qpop(detail::WaitQueue& q) noexcept {
  auto* w = static_cast<SyncWaiter*>(q.head);
  if (w) {
    q.head = w->next;
    if (!q.head) q.tail = nullptr;
  }
  return w;
}

void require_goroutine(const char* what) {
  if (rt::current_g() == nullptr) detail::throw_outside_run(what);
}

}  // namespace

void WaitGroup::add(int n) {
  std::int64_t v = count_.fetch_add(n, std::memory_order_acq_rel) + n;
  if (v < 0) rt::panic("sync: negative WaitGroup counter");
  if (v != 0) return;
  // Zero: release every waiter. (A waiter checks the counter under the
  // queue lock, so it either sees zero or is on the queue by now.)
  qlock(waiters_);
  SyncWaiter* w = static_cast<SyncWaiter*>(waiters_.head);
  waiters_.head = waiters_.tail = nullptr;
  qunlock(waiters_);
  if (w != nullptr) require_goroutine("WaitGroup::add");
  while (w) {
    SyncWaiter* next = w->next;  // w dies once its goroutine runs
    rt::ready(w->g);
    w = next;
  }
}

void WaitGroup::done() { add(-1); }

void WaitGroup::wait() {
  if (count_.load(std::memory_order_acquire) == 0) return;
  require_goroutine("WaitGroup::wait");
  qlock(waiters_);
  if (count_.load(std::memory_order_acquire) == 0) {
    qunlock(waiters_);
    return;
  }
  SyncWaiter w{rt::current_g(), nullptr};
  qpush(waiters_, &w);
  rt::park(qunlock_park, &waiters_, WaitReason::wait_group);
}

bool Mutex::try_lock() noexcept {
  std::uint32_t zero = 0;
  return state_.compare_exchange_strong(zero, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

void Mutex::lock() {
  if (try_lock()) return;
  require_goroutine("Mutex::lock");
  qlock(waiters_);
  // Mark "locked, maybe waiters"; if it was free meanwhile, we own it.
  if (state_.exchange(2, std::memory_order_acquire) == 0) {
    qunlock(waiters_);
    return;
  }
  SyncWaiter w{rt::current_g(), nullptr};
  qpush(waiters_, &w);
  rt::park(qunlock_park, &waiters_, WaitReason::mutex);
  // unlock() handed the lock to us directly (FIFO hand-off).
}

void Mutex::unlock() {
  std::uint32_t s = state_.load(std::memory_order_relaxed);
  if (s == 0) rt::fatal("sync: unlock of unlocked mutex");
  if (s == 1 &&
      state_.compare_exchange_strong(s, 0, std::memory_order_release, std::memory_order_relaxed)) {
    return;
  }
  if (s == 0) rt::fatal("sync: unlock of unlocked mutex");
  qlock(waiters_);
  SyncWaiter* w = qpop(waiters_);
  if (w == nullptr) {
    state_.store(0, std::memory_order_release);
    qunlock(waiters_);
    return;
  }
  // Hand the lock over: it stays locked; 1 if nobody else waits.
  state_.store(waiters_.head ? 2 : 1, std::memory_order_release);
  rt::G* g = w->g;
  qunlock(waiters_);
  require_goroutine("Mutex::unlock");
  rt::ready(g);
}

}  // namespace gort
