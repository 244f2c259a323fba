// Timers (provided with Lab 03): one global 4-ary min-heap of deadlines
// under its own lock — sleeping goroutines (gort::sleep_for) and channel
// timers (gort::Timer, Ticker, after, tick: gort/time.hpp). See
// runtime/rt/timers.hpp for how the scheduler fires them.
//
// The hot path costs nothing when no timer is armed: check_timers() reads one
// atomic (the earliest deadline, INT64_MAX when the heap is empty) and
// returns. A sleeping goroutine is added to the heap by the unlock function
// of its park(), i.e. on g0 after it is off its stack, so the scheduler that
// pops it can resume it at once.
//
// Channel timers (Go's timer with a channel, Go 1.23 semantics). A TimerCore
// is reference counted (its handles, plus one per heap entry) and holds the
// channel it sends on. Its own spin lock guards its state; `gen` counts the
// stop/reset calls, and a heap entry carries the gen it was armed with, so
// an entry popped by check_timers just before a stop() is recognised as
// stale and does nothing. stop() and reset() take the entry out of the heap
// eagerly (the heap tracks each timer's index) and drain the channel's
// one-element buffer under the timer's lock — the same lock under which a
// firing sends — so no value from before the call can be received after it.
//
// Firing sends without blocking (a full buffer drops the tick, as Go's
// sendTime), and makes a receiver it hands the time to runnable at the tail
// of the P's ring, like a sleeper. check_timers may run on a goroutine's
// stack (switch_from, while that goroutine is parking and still holds the
// locks its park protects — e.g. the very channel it is about to wait on);
// there a channel's or timer's lock that is taken is not waited for (a
// stop() on another M may hold the timer's lock while it waits for that
// channel): the timer goes back on the heap, due, and the next check_timers
// (on g0, or an idle M, which sleeps no later than the earliest deadline)
// fires it.
//
// Lock order: a TimerCore's lock → the heap lock (tlock) → nothing; a
// TimerCore's lock → a channel's lock. Nothing is taken under the heap lock.
#include "rt/timers.hpp"

#include <atomic>
#include <climits>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "gort/time.hpp"
#include "os/futex_mutex.hpp"
#include "rt/chan_core.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/spinlock.hpp"
#include "rt/trace.hpp"

namespace gort::detail {

/// A channel timer (Go's runtime timer with isChan), shared by its handles.
struct TimerCore {
  std::atomic<std::int64_t> refs{1};  ///< handles + heap entries
  rt::SpinLock lock;                  ///< guards everything below but heap_index
  ChanCore* ch = nullptr;             ///< the channel the time is sent on (retained)
  std::int64_t period = 0;            ///< 0: one-shot; else re-armed every period ns
  std::uint64_t gen = 0;              ///< bumped when disarmed: older heap entries are stale
  bool armed = false;                 ///< an entry of this gen is in the heap or being fired
  std::int32_t heap_index = -1;       ///< under the heap lock: its entry's index, -1 if none
};

}  // namespace gort::detail

namespace gort::rt {

using detail::TimerCore;

namespace {

struct Entry {
  std::int64_t when;
  std::uint64_t seq;  // FIFO among equal deadlines
  G* g;               // a sleeping goroutine, or
  TimerCore* t;       // a channel timer (one reference held by the entry)
  std::uint64_t gen;  // t's gen when armed
  bool before(const Entry& o) const noexcept {
    return when != o.when ? when < o.when : seq < o.seq;
  }
};

os::FutexMutex tlock;
std::vector<Entry> heap;  // 4-ary min-heap by (when, seq) under tlock
std::uint64_t tseq = 0;
std::atomic<std::int64_t> earliest{INT64_MAX};

// ---- the heap (tlock held) -------------------------------------------------

void place(std::size_t i, const Entry& e) noexcept {
  heap[i] = e;
  if (e.t) e.t->heap_index = static_cast<std::int32_t>(i);
}

void sift_up(std::size_t i) noexcept {
  Entry e = heap[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (!e.before(heap[parent])) break;
    place(i, heap[parent]);
    i = parent;
  }
  place(i, e);
}

void sift_down(std::size_t i) noexcept {
  Entry e = heap[i];
  std::size_t n = heap.size();
  for (;;) {
    std::size_t c = 4 * i + 1;
    if (c >= n) break;
    std::size_t best = c;
    for (std::size_t k = c + 1; k < c + 4 && k < n; ++k) {
      if (heap[k].before(heap[best])) best = k;
    }
    if (!heap[best].before(e)) break;
    place(i, heap[best]);
    i = best;
  }
  place(i, e);
}

void publish_earliest() noexcept {
  earliest.store(heap.empty() ? INT64_MAX : heap.front().when, std::memory_order_release);
}

/// Adds @p e (stamping its seq); returns true if it is now the earliest.
bool heap_push(Entry e) {
  e.seq = tseq++;  // ties fire in arming order
  heap.push_back(e);
  sift_up(heap.size() - 1);
  publish_earliest();
  return heap.front().seq == e.seq;
}

/// Removes the entry at @p i.
void heap_remove(std::size_t i) noexcept {
  if (heap[i].t) heap[i].t->heap_index = -1;
  std::size_t last = heap.size() - 1;
  if (i != last) {
    Entry moved = heap[last];
    heap.pop_back();
    place(i, moved);
    if (i > 0 && moved.before(heap[(i - 1) / 4])) {
      sift_up(i);
    } else {
      sift_down(i);
    }
  } else {
    heap.pop_back();
  }
  publish_earliest();
}

bool add_timer_unlock(G* gp, void*) {
  bool first;
  {
    std::lock_guard<os::FutexMutex> lk(tlock);
    first = heap_push(Entry{gp->when, 0, gp, nullptr, 0});
  }
  // The new earliest deadline: an idle M may be asleep until a later one
  // (or with none), so wake one to re-arm. Outside tlock: wakep takes
  // sched.lock and may start a thread.
  if (first) wake_for_timer();
  return true;
}

/// now + d, clamped to [now, kTimerForever].
std::int64_t deadline_after(std::int64_t d) noexcept {
  std::int64_t now = nanotime();
  if (d <= 0) return now;
  return d < kTimerForever - now ? now + d : kTimerForever;
}

// ---- channel timers (t->lock held) -----------------------------------------

/// Arms @p t for @p when; returns true if it is the earliest timer (the
/// caller calls wake_for_timer once it has released t->lock).
bool arm(TimerCore* t, std::int64_t when) {
  t->armed = true;
  t->refs.fetch_add(1, std::memory_order_relaxed);  // the entry's reference
  std::lock_guard<os::FutexMutex> lk(tlock);
  return heap_push(Entry{when, 0, nullptr, t, t->gen});
}

/// Disarms @p t; returns true if it was armed. An entry already popped by
/// check_timers becomes stale (gen) and is dropped there.
bool disarm(TimerCore* t) noexcept {
  if (!t->armed) return false;
  t->armed = false;
  ++t->gen;
  std::lock_guard<os::FutexMutex> lk(tlock);
  if (t->heap_index >= 0) {
    heap_remove(static_cast<std::size_t>(t->heap_index));
    // The entry's reference; never the last one (the caller has a handle).
    t->refs.fetch_sub(1, std::memory_order_relaxed);
  }
  return true;
}

/// Discards a sent but unreceived value; true if there was one.
bool drain(TimerCore* t) noexcept {
  detail::ChanCore* c = t->ch;
  std::lock_guard<SpinLock> lk(c->lock);
  if (c->count == 0) return false;
  if (c->ops) c->ops->destroy(c->slot(c->recvx));
  if (++c->recvx == c->capacity) c->recvx = 0;
  --c->count;
  return true;
}

void require_run() {
  if (current_g() == nullptr) {
    throw std::logic_error(
        "gort timers (Timer, Ticker, after, tick) used outside gort::run — a timer lives in the "
        "running runtime: create, stop and reset it from goroutines");
  }
}

enum class Fired { done, stale, busy };

/// Fires the channel timer of entry @p e at @p now: sends the time (a
/// receiver it hands it to is returned in *wake), re-arms a ticker.
/// Returns busy (nothing done) if the channel's lock is taken and
/// @p may_wait is false.
Fired fire(const Entry& e, std::int64_t now, bool may_wait, G** wake) {
  TimerCore* t = e.t;
  // Without may_wait, neither lock is waited for: a stop() on another M may
  // hold t->lock while it waits for the channel lock this parking goroutine
  // holds.
  if (may_wait) {
    t->lock.lock();
  } else if (!t->lock.try_lock()) {
    return Fired::busy;
  }
  std::lock_guard<SpinLock> lk(t->lock, std::adopt_lock);
  if (!t->armed || e.gen != t->gen) return Fired::stale;
  detail::ChanCore* c = t->ch;
  if (may_wait) {
    c->lock.lock();
  } else if (!c->lock.try_lock()) {
    return Fired::busy;
  }
  if (!c->closed) {
    TimerClock::time_point v{std::chrono::nanoseconds(now)};
    detail::chan_try_send_locked(c, &v, wake);  // a full buffer drops the tick
  }
  c->lock.unlock();
  if (t->period > 0) {
    // The next tick after now, on the ticker's grid (missed ticks dropped).
    std::int64_t when = e.when + t->period * (1 + (now - e.when) / t->period);
    if (when < e.when || when > kTimerForever) when = kTimerForever;
    t->refs.fetch_add(1, std::memory_order_relaxed);  // the new entry's reference
    std::lock_guard<os::FutexMutex> hl(tlock);
    heap_push(Entry{when, 0, nullptr, t, t->gen});
  } else {
    t->armed = false;
  }
  return Fired::done;
}

void release_entry(TimerCore* t) noexcept { detail::timer_release(t); }

void make_runnable(P* p, G* gp) {
  trace::timer_fire(gp);
  gp->wait_reason = WaitReason::none;
  gp->status.store(GStatus::runnable, std::memory_order_relaxed);
  runq_put(p, gp, false);  // deadline order: to the tail
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
  Entry batch[64];
  int n = 0;
  {
    std::lock_guard<os::FutexMutex> lk(tlock);
    while (!heap.empty() && heap.front().when <= now && n < 64) {
      batch[n++] = heap.front();
      heap_remove(0);
    }
  }
  // On a goroutine's stack (switch_from) the parking goroutine may hold a
  // channel's lock: never wait for one there.
  bool may_wait = current_g() == nullptr;
  int readied = 0;
  for (int i = 0; i < n; ++i) {
    const Entry& e = batch[i];
    if (e.g) {
      make_runnable(p, e.g);
      ++readied;
      continue;
    }
    G* wake = nullptr;
    Fired r = fire(e, now, may_wait, &wake);
    if (r == Fired::busy) {
      // Back on the heap, still due and still holding its reference.
      std::lock_guard<os::FutexMutex> lk(tlock);
      heap_push(e);
      continue;
    }
    release_entry(e.t);
    if (wake) {
      make_runnable(p, wake);
      ++readied;
    }
  }
  if (readied > 0) wakep();
  return readied;
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
  std::vector<Entry> old;
  {
    std::lock_guard<os::FutexMutex> lk(tlock);
    old.swap(heap);
    tseq = 0;
    publish_earliest();
  }
  for (const Entry& e : old) {
    if (!e.t) continue;
    {
      std::lock_guard<SpinLock> lk(e.t->lock);
      e.t->heap_index = -1;
      if (e.gen == e.t->gen) e.t->armed = false;
    }
    release_entry(e.t);
  }
}

}  // namespace gort::rt

namespace gort::detail {

using namespace gort::rt;

TimerCore* timer_make(std::chrono::nanoseconds d, std::chrono::nanoseconds period,
                      const Chan<TimerClock::time_point>& ch) {
  require_run();
  auto* t = new TimerCore;
  t->ch = ch.core();
  chan_retain(t->ch);
  t->period = period.count();
  bool first;
  {
    std::lock_guard<SpinLock> lk(t->lock);
    first = arm(t, deadline_after(d.count()));
  }
  if (first) wake_for_timer();
  return t;
}

void timer_retain(TimerCore* t) noexcept { t->refs.fetch_add(1, std::memory_order_relaxed); }

void timer_release(TimerCore* t) noexcept {
  if (t->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  chan_release(t->ch);
  delete t;
}

bool timer_stop(TimerCore* t) {
  require_run();
  std::lock_guard<SpinLock> lk(t->lock);
  bool active = disarm(t);
  // Go 1.23: a value sent but not received means "still active" — discard it.
  return drain(t) || active;
}

bool timer_reset(TimerCore* t, std::chrono::nanoseconds d, std::chrono::nanoseconds period) {
  require_run();
  bool active;
  bool first;
  {
    std::lock_guard<SpinLock> lk(t->lock);
    active = disarm(t);
    active = drain(t) || active;
    t->period = period.count();
    first = arm(t, deadline_after(d.count()));
  }
  if (first) wake_for_timer();
  return active;
}

void check_interval(std::chrono::nanoseconds d, const char* who) {
  require_run();
  if (d.count() > 0) return;
  char msg[64];
  std::snprintf(msg, sizeof msg, "non-positive interval for %s", who);
  rt::panic(msg);
}

}  // namespace gort::detail
