// Sleeping goroutines (provided with Lab 03): one global min-heap of
// (deadline, sequence, G) under its own lock — see runtime/rt/timers.hpp.
//
// The hot path costs nothing when nobody sleeps: check_timers() reads one
// atomic (the earliest deadline, INT64_MAX when the heap is empty) and
// returns. A goroutine is added to the heap by the unlock function of its
// park(), i.e. on g0 after it is off its stack, so the scheduler that pops
// it can resume it at once.
#include "rt/timers.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <mutex>
#include <vector>

#include "os/futex_mutex.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/trace.hpp"

namespace gort::rt {

namespace {

struct Timer {
  std::int64_t when;
  std::uint64_t seq;  // FIFO among equal deadlines
  G* g;
  bool operator>(const Timer& o) const noexcept {
    return when != o.when ? when > o.when : seq > o.seq;
  }
};

os::FutexMutex tlock;
std::vector<Timer> heap;  // min-heap by (when, seq) under tlock
std::uint64_t tseq = 0;
std::atomic<std::int64_t> earliest{INT64_MAX};

void publish_earliest() {
  earliest.store(heap.empty() ? INT64_MAX : heap.front().when, std::memory_order_release);
}

bool add_timer_unlock(G* gp, void*) {
  bool first;
  {
    std::lock_guard<os::FutexMutex> lk(tlock);
    first = heap.empty() || gp->when < heap.front().when;
    // The sequence number makes ties fire in arming order.
    heap.push_back(Timer{gp->when, tseq++, gp});
    std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    publish_earliest();
  }
  // The new earliest deadline: an idle M may be asleep until a later one
  // (or with none), so wake one to re-arm. Outside tlock: wakep takes
  // sched.lock and may start a thread.
  if (first) wake_for_timer();
  return true;
}

}  // namespace

void timer_sleep_until(std::int64_t when) {
  current_g()->when = when;
  park(add_timer_unlock, nullptr, WaitReason::sleep);
}

namespace {
/// check_timers once a deadline may be due: reads the clock and fires what
/// is due. Out of line, so the common "no timer" check costs a load and a
/// compare — no register saves for the 64-entry batch below (every switch
/// calls check_timers).
[[gnu::noinline]] int run_due_timers(P* p, std::int64_t first) {
  std::int64_t now = nanotime();
  if (now < first) return 0;
  G* batch[64];
  int n = 0;
  {
    std::lock_guard<os::FutexMutex> lk(tlock);
    while (!heap.empty() && heap.front().when <= now && n < 64) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
      batch[n++] = heap.back().g;
      heap.pop_back();
    }
    publish_earliest();
  }
  for (int i = 0; i < n; ++i) {
    G* gp = batch[i];
    trace::timer_fire(gp);
    gp->wait_reason = WaitReason::none;
    gp->status.store(GStatus::runnable, std::memory_order_relaxed);
    runq_put(p, gp, false);  // deadline order: to the tail
  }
  if (n > 0) wakep();
  return n;
}
}  // namespace

int check_timers(P* p) {
  std::int64_t first = earliest.load(std::memory_order_acquire);
  if (first == INT64_MAX) [[likely]]
    return 0;
  return run_due_timers(p, first);
}

std::int64_t next_timer() noexcept { return earliest.load(std::memory_order_acquire); }

void timers_reset() noexcept {
  std::lock_guard<os::FutexMutex> lk(tlock);
  heap.clear();
  heap.shrink_to_fit();
  tseq = 0;
  publish_earliest();
}

}  // namespace gort::rt
