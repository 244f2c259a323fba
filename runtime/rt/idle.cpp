// Finding work and idling (provided with Lab 03): find_runnable's blocking
// part, the spinning-M protocol, starting and stopping Ms, and the deadlock
// check.
//
// The problem: a G made runnable on one P while other Ps sit idle should be
// picked up soon, but Ms must not burn CPU polling when there is nothing to
// do. Go's answer, reproduced here:
//   * wakep(): whoever makes work available (new_proc, ready) starts one
//     *spinning* M, unless one is already spinning or no P is idle — so at
//     most a few threads search at any moment (at most half the busy Ps may
//     spin: 2 * nmspinning < gomaxprocs - npidle).
//   * A spinning M that finds work stops spinning and, if it was the last
//     spinner, calls wakep() so the search goes on (work tends to come in
//     bursts).
//   * An M that finds nothing releases its P, *then* stops spinning, *then*
//     looks at every queue once more: a producer that saw nmspinning > 0 and
//     did not wake anyone is covered by this re-check (the seq_cst operations
//     on nmspinning/npidle and the producer's fence order the two sides).
//   * Then it parks on its Note (stopm), with a time-out if a timer is
//     pending, so a sleeping goroutine is woken on time. A timer armed later
//     with an earlier deadline than every other wakes an idle M
//     (wake_for_timer), which parks again with the new time-out.
//   * A chain of runnext hand-offs keeps its P for at most about kSliceNs
//     (next_local_g; see sched.hpp): there is no preemption before Lab 05.
// Lab 06 moves the policy into the student's steal.cpp (rt/steal.hpp):
// begin_spinning (the limit), steal_work, reset_spinning (true: wake the next
// searcher) and check_runqs (the re-check); the mechanism stays here.
// The deadlock check (Go's checkdead) runs when the last M goes idle: if no
// goroutine can be woken by anything — no timer, no I/O waiter, no syscall —
// the program can never progress: report it and exit(2), never hang.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <unistd.h>

#include "rt/hooks.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/steal.hpp"
#include "rt/sysmon.hpp"
#include "rt/timers.hpp"
#include "rt/trace.hpp"

namespace gort::rt {

namespace {

/// How many rounds a spinning M polls before giving up its P.
constexpr int kSpinRounds = 64;
/// Stack of each new M's thread (g0 runs the scheduler there).
constexpr std::size_t kMStack = 256 * 1024;
/// The longest an idle M sleeps towards a timer in one go: a deadline years
/// away (sleep_for(nanoseconds::max())) must not overflow the Note's clock
/// arithmetic; the M wakes, finds nothing due, and sleeps again.
constexpr std::int64_t kMaxIdleSleepNs = 3600LL * 1'000'000'000;

}  // namespace

// acquirep, pidle_put, pidle_get and stopm are also Lab 05's (sched.hpp).

void acquirep(M* m, P* p) {
  m->p = p;
  p->m = m;
  p->status.store(PStatus::running, std::memory_order_relaxed);
  sysmon_wake();  // Lab 05: a P runs again, sysmon leaves its deep sleep
  trace::p_owner(p, m, true);
}

// --- lists under sched.lock -------------------------------------------------

void pidle_put(P* p) {
  trace::p_owner(p, p->m, false);
  p->m = nullptr;
  p->status.store(PStatus::idle, std::memory_order_relaxed);
  p->link = sched.pidle;
  sched.pidle = p;
  sched.npidle.fetch_add(1, std::memory_order_seq_cst);
}

P* pidle_get() {
  P* p = sched.pidle;
  if (p) {
    sched.pidle = p->link;
    p->link = nullptr;
    sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
  }
  return p;
}

namespace {

void mput(M* m) {
  m->schedlink = sched.midle;
  sched.midle = m;
  ++sched.nmidle;
  m->idle.store(true, std::memory_order_relaxed);
}

M* mget() {
  M* m = sched.midle;
  if (m) {
    sched.midle = m->schedlink;
    m->schedlink = nullptr;
    --sched.nmidle;
    m->idle.store(false, std::memory_order_relaxed);
  }
  return m;
}

bool mremove(M* m) {
  for (M** pp = &sched.midle; *pp; pp = &(*pp)->schedlink) {
    if (*pp == m) {
      *pp = m->schedlink;
      m->schedlink = nullptr;
      --sched.nmidle;
      m->idle.store(false, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

/// Go's checkdead. Called with sched.lock held, after @p m went idle.
void checkdead() {
  if (sched.exiting.load(std::memory_order_relaxed)) return;
  if (sched.nmidle < static_cast<std::int32_t>(sched.allm.size())) return;
  if (next_timer() != INT64_MAX) return;
  if (netpoll_has_waiters() || syscalls_in_progress() > 0) return;
  // Every M is parked and nothing can wake one.
  bool runnable = sched.runq_size.load(std::memory_order_relaxed) > 0;
  for (int i = 0; i < sched.gomaxprocs; ++i) runnable |= !runq_empty(&sched.allp[i]);
  if (runnable) {
    write_all(2,
              "fatal error: runtime bug: every M is idle but goroutines are runnable "
              "(a wake-up was lost: whoever makes a G runnable must call wakep, and an M must "
              "re-check the queues before it parks)\n\n");
  } else {
    write_all(2, "fatal error: all goroutines are asleep - deadlock!\n\n");
  }
  std::lock_guard<os::FutexMutex> lk(sched.allg_lock);
  char buf[128];
  for (std::size_t i = 0, n = sched.allgs.size(); i < n; ++i) {
    G* gp = sched.allgs.at(i);
    if (!format_goroutine_header(gp, buf, sizeof buf)) continue;
    write_all(2, buf);
    write_all(2, "\n");
  }
  write_all(2, "exit status 2\n");
  trace::exit_now();
  ::_exit(2);
}

}  // namespace

void stopm(M* m) {
  bool forever = false;  // a timed-out M that found no idle P sleeps without limit
  for (;;) {
    {
      std::lock_guard<os::FutexMutex> lk(sched.lock);
      if (sched.exiting.load(std::memory_order_relaxed)) return;
      m->park.clear();
      m->nextp = nullptr;
      mput(m);
      checkdead();
    }
    bool woken = true;
    std::int64_t nt = forever ? INT64_MAX : next_timer();
    if (nt == INT64_MAX) {
      m->park.sleep();
    } else {
      std::int64_t d = nt - nanotime();
      if (d > kMaxIdleSleepNs) d = kMaxIdleSleepNs;
      woken = m->park.sleep_for(std::chrono::nanoseconds(d > 0 ? d : 0));
    }
    if (!woken) {
      std::unique_lock<os::FutexMutex> lk(sched.lock);
      if (mremove(m)) {
        // Timed out: a timer is due. Run it if a P is free; else the busy
        // Ps will see it when they next schedule.
        if (sched.exiting.load(std::memory_order_relaxed)) return;
        if (P* p = pidle_get()) {
          acquirep(m, p);
          return;
        }
        forever = true;
        continue;
      }
      // startm (or exit) took us off the list concurrently: its wakeup is coming.
      lk.unlock();
      m->park.sleep();
    }
    if (sched.exiting.load(std::memory_order_relaxed)) return;
    P* p = m->nextp;
    m->nextp = nullptr;
    if (p) {
      acquirep(m, p);
      return;
    }
  }
}

namespace {

bool try_wakep();

/// The M found work: stop spinning (the student's reset_spinning), and if it
/// was the last spinner let another M take over the search (Lab 06).
G* found(M* m, G* gp) {
  if (m->spinning) {
    trace::spinning(false);
    if (reset_spinning(m) && try_wakep()) {
      steal_stats.spinner_wakeups.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return gp;
}

/// Lab 04: an M is blocked in netpoll(true, ...) (at most one at a time).
std::atomic<bool> netpoll_blocked{false};

/// Has the earliest timer expired? (No clock read when nobody sleeps.)
bool timer_due() {
  std::int64_t t = next_timer();
  return t != INT64_MAX && t <= nanotime();
}

/// wakep; true if it started an M (startm may still find the P gone).
bool try_wakep() {
  if (sched.gomaxprocs == 1 || !sched.main_started.load(std::memory_order_relaxed)) return false;
    // StoreLoad barrier between publishing the work and reading npidle /
    // nmspinning; pairs with the re-check in find_runnable.
#if defined(GORT_TSAN)
  static std::atomic<int> fence_word{0};  // TSan does not model fences: use an RMW
  fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  if (sched.npidle.load(std::memory_order_relaxed) == 0) return false;
  if (sched.nmspinning.load(std::memory_order_relaxed) != 0) return false;
  std::int32_t zero = 0;
  if (!sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) {
    return false;
  }
  note_spinning();
  startm(nullptr, true);
  return true;
}

}  // namespace

void wakep() { try_wakep(); }

// ---- Lab 06: provided around the student's steal.cpp -----------------------

StealStats steal_stats;

namespace {
RandomOrder the_steal_order;
}  // namespace

void RandomOrder::reset(std::uint32_t n) noexcept {
  count = n;
  ncoprimes = 0;
  for (std::uint32_t c = 1; c <= n; ++c) {
    std::uint32_t a = c, b = n;  // gcd(c, n)
    while (b != 0) {
      std::uint32_t r = a % b;
      a = b;
      b = r;
    }
    if (a == 1) coprimes[ncoprimes++] = c;
  }
}

const RandomOrder& steal_order() noexcept { return the_steal_order; }

void steal_reset(int procs) noexcept {
  steal_stats.attempts.store(0);
  steal_stats.batches.store(0);
  steal_stats.spinning_peak.store(0);
  steal_stats.spinner_wakeups.store(0);
  the_steal_order.reset(static_cast<std::uint32_t>(procs));
}

void note_spinning() noexcept {
  std::int32_t n = sched.nmspinning.load(std::memory_order_relaxed);
  std::int32_t peak = steal_stats.spinning_peak.load(std::memory_order_relaxed);
  while (n > peak &&
         !steal_stats.spinning_peak.compare_exchange_weak(peak, n, std::memory_order_relaxed)) {
  }
}

void steal_runnext_pause(P* victim) noexcept {
  if (victim->status.load(std::memory_order_relaxed) == PStatus::running) ::usleep(3);
  if (auto probe = steal_runnext_probe.load(std::memory_order_acquire)) [[unlikely]] {
    probe(victim);
  }
}

void wake_for_timer() {
  // Go's wakeNetPoller. An M blocked in the poller (Lab 04) sleeps until the
  // deadline it read before blocking: break its poll, and it re-reads
  // next_timer(). Otherwise get an M searching; it parks again only until
  // the new earliest deadline. If an M is spinning already, it reads
  // next_timer() when it parks (the seq_cst fence in try_wakep orders the
  // timer's publication before the nmspinning read); if no P is idle, every
  // P's owner checks the timers the next time it schedules.
  if (netpoll_blocked.load(std::memory_order_acquire)) {
    netpoll_break();
    sched.n_timer_wakeups.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (try_wakep()) sched.n_timer_wakeups.fetch_add(1, std::memory_order_relaxed);
}

namespace {
/// next_local_g on every kSliceCheckEvery-th inherited pick: reads the clock
/// and ends the slice once kSliceNs have passed. Out of line, so the other
/// 63 picks save no registers for it.
[[gnu::noinline]] G* slice_check(P* p, G* gp, bool* inherit_time) {
  SliceClock& s = sched.slices[p->id];
  std::int64_t now = nanotime();
  if (s.inherited == kSliceCheckEvery) {
    s.start = now;
    return gp;
  }
  if (now - s.start < kSliceNs) return gp;
  // The chain has had its slice: gp goes behind the local queue, and the
  // next G (the ring's head, or gp itself if the ring was empty) starts a
  // fresh slice. runnext is empty now, so nothing inherits.
  sched.n_slice_ends.fetch_add(1, std::memory_order_relaxed);
  runq_put(p, gp, false);
  G* next = find_runnable_fast(p, inherit_time);
  *inherit_time = false;
  return next;
}
}  // namespace

G* next_local_g(P* p, bool* inherit_time) {
  G* gp = trace::perturb_pick(p, find_runnable_fast(p, inherit_time), inherit_time);  // GORT_SEED
  if (gp == nullptr || !*inherit_time) return gp;
  SliceClock& s = sched.slices[p->id];
  if ((++s.inherited & (kSliceCheckEvery - 1)) != 0) [[likely]]
    return gp;
  return slice_check(p, gp, inherit_time);
}

void startm(P* p, bool spinning) {
  std::lock_guard<os::FutexMutex> lk(sched.lock);
  if (sched.exiting.load(std::memory_order_relaxed)) {
    if (p) pidle_put(p);
    if (spinning) sched.nmspinning.fetch_sub(1);
    return;
  }
  if (p == nullptr) p = pidle_get();
  if (p == nullptr) {
    if (spinning) sched.nmspinning.fetch_sub(1);
    return;
  }
  if (M* m = mget()) {
    m->nextp = p;
    m->spinning = spinning;
    m->park.wakeup();
    return;
  }
  // No idle M: start a thread. Created under the lock so that teardown never
  // sees an M whose thread is half-made; room in allm is made first, so the
  // running thread is always on the list (teardown joins it).
  // Lab 05: the Ms and sysmon may not pass the thread limit (Go's checkmcount).
  if (static_cast<std::int64_t>(sched.allm.size()) + 1 >= sched.max_threads) thread_exhaustion();
  M* m = nullptr;
  try {
    sched.allm.reserve_next();
    m = new M;
  } catch (...) {
    pidle_put(p);
    if (spinning) sched.nmspinning.fetch_sub(1);
    throw;
  }
  m->id = static_cast<int>(sched.allm.size());
  m->nextp = p;
  m->spinning = spinning;
  m->rand_state = 0x6c8e9cf5u * static_cast<std::uint32_t>(m->id + 1);
  try {
    char name[16];
    std::snprintf(name, sizeof name, "gort-m%d", m->id);
    m->thread = os::Thread([m] { mstart(m); }, os::ThreadOptions{kMStack, name});
  } catch (...) {
    delete m;
    pidle_put(p);
    if (spinning) sched.nmspinning.fetch_sub(1);
    throw;
  }
  sched.allm.push_back(m);
  sched.n_threads.fetch_add(1, std::memory_order_relaxed);
}

G* find_runnable(M* m, bool* inherit_time) {
top:
  if (sched.exiting.load(std::memory_order_relaxed)) return nullptr;
  P* p = m->p;
  check_timers(p);
  if (G* gp = next_local_g(p, inherit_time)) return found(m, gp);
  *inherit_time = false;

  // Lab 04: goroutines whose I/O is ready.
  if (netpoll_has_waiters()) {
    if (G* list = netpoll(false, 0)) {
      trace::netpoll_ready(list);
      G* gp = list;
      for (G* g = list->schedlink; g;) {
        G* nx = g->schedlink;
        runq_put(p, g, false);
        sched.n_netpoll_wakeups.fetch_add(1, std::memory_order_relaxed);
        g = nx;
      }
      sched.n_netpoll_wakeups.fetch_add(1, std::memory_order_relaxed);
      gp->schedlink = nullptr;
      return found(m, gp);
    }
  }

  // Lab 06: steal, while spinning (the student's begin_spinning bounds the
  // number of spinners). The ring is empty here: whatever is in it after a
  // successful steal_work came with the stolen G.
  if (sched.gomaxprocs > 1) {
    if (!m->spinning && begin_spinning(m)) note_spinning();
    if (m->spinning) {
      trace::spinning(true);
      for (int i = 0; i < kSpinRounds; ++i) {
        steal_stats.attempts.fetch_add(1, std::memory_order_relaxed);
        if (G* gp = steal_work(p)) {
          steal_stats.batches.fetch_add(1, std::memory_order_relaxed);
          p->n_steals.fetch_add(1 + runq_len(p), std::memory_order_relaxed);
          return found(m, trace::stolen(p, gp));
        }
        if (sched.runq_size.load(std::memory_order_relaxed) > 0 || timer_due() ||
            sched.exiting.load(std::memory_order_relaxed)) {
          goto top;
        }
        for (int k = 0; k < 16; ++k) os::cpu_relax();
      }
    }
  }

  // Give up the P.
  {
    std::unique_lock<os::FutexMutex> lk(sched.lock);
    if (sched.exiting.load(std::memory_order_relaxed)) return nullptr;
    if (sched.runq_size.load(std::memory_order_relaxed) > 0) {
      G* gp = globrunq_get(p, 0);
      lk.unlock();
      return found(m, gp);
    }
    m->p = nullptr;
    pidle_put(p);
  }
  bool was_spinning = m->spinning;
  if (m->spinning) {
    m->spinning = false;
    trace::spinning(false);
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  }
  // Re-check after dropping the P and the spinning count: work that arrived
  // meanwhile may have been submitted by someone who counted on us.
  if (check_runqs() || timer_due()) {
    P* p2;
    {
      std::lock_guard<os::FutexMutex> lk(sched.lock);
      p2 = pidle_get();
    }
    if (p2) {
      acquirep(m, p2);
      if (was_spinning && begin_spinning(m)) note_spinning();
      goto top;
    }
  }
  // Lab 04: rather than sleep, one P-less M blocks in the poller until the
  // next timer (Go's findRunnable does the same; there is no poller thread).
  // netpoll_break() gets it out (runtime exit); work made runnable meanwhile
  // goes to other Ms through wakep as usual.
  if (netpoll_has_waiters() && !netpoll_blocked.exchange(true, std::memory_order_acq_rel)) {
    G* list = netpoll(true, next_timer());
    trace::netpoll_ready(list);
    netpoll_blocked.store(false, std::memory_order_release);
    if (sched.exiting.load(std::memory_order_relaxed)) return nullptr;
    P* p2;
    {
      std::lock_guard<os::FutexMutex> lk(sched.lock);
      p2 = pidle_get();
      if (p2 == nullptr && list != nullptr) {  // every P is busy: they will take these
        G* tail = list;
        std::int32_t n = 1;
        for (; tail->schedlink; tail = tail->schedlink) ++n;
        sched.n_netpoll_wakeups.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        globrunq_put_batch(list, tail, n);
        list = nullptr;
      }
    }
    if (p2) {
      acquirep(m, p2);
      if (list == nullptr) goto top;  // a timer is due, or a spurious wake-up
      G* gp = list;
      bool more = gp->schedlink != nullptr;
      for (G* g = gp->schedlink; g;) {
        G* nx = g->schedlink;
        runq_put(p2, g, false);
        sched.n_netpoll_wakeups.fetch_add(1, std::memory_order_relaxed);
        g = nx;
      }
      sched.n_netpoll_wakeups.fetch_add(1, std::memory_order_relaxed);
      gp->schedlink = nullptr;
      if (more) wakep();
      return found(m, gp);
    }
  }
  trace::m_idle(true);
  stopm(m);
  trace::m_idle(false);
  if (sched.exiting.load(std::memory_order_relaxed)) return nullptr;
  goto top;
}

}  // namespace gort::rt
