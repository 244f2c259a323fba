// gort::debug (provided with Lab 03): ids, counters, snapshots and the
// lock-free dump the grader prints when a test hangs. See gort/debug.hpp.
//
// Who may call what: stats() and snapshot() take sched.debug_lock, which
// run() holds while it publishes a booted runtime and while it frees one, so
// any thread may call them at any moment. dump() takes no lock at all (it
// runs in a signal handler): it reads allm and allgs, whose entries never
// move (StableList, rt/sched.hpp), and everything else racily.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "gort/gort.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/steal.hpp"
#include "rt/trace.hpp"

#if defined(GORT_TSAN)
// snapshot() peeks at fields their owners write without synchronisation (a
// P's schedtick, an M's curg, a G's id and wait reason), as Go's schedtrace
// does: each value is a word read whole, the picture as a whole is racy by
// design (documented on Snapshot). TSan is told to ignore those reads.
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#define GORT_RACY_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define GORT_RACY_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define GORT_RACY_READS_BEGIN() ((void)0)
#define GORT_RACY_READS_END() ((void)0)
#endif

namespace gort {

const char* to_string(GStatus s) noexcept {
  switch (s) {
    case GStatus::idle:
      return "idle";
    case GStatus::runnable:
      return "runnable";
    case GStatus::running:
      return "running";
    case GStatus::syscall:
      return "syscall";
    case GStatus::waiting:
      return "waiting";
    case GStatus::dead:
      return "dead";
  }
  return "?";
}

const char* to_string(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::none:
      return "";
    case WaitReason::chan_receive:
      return "chan receive";
    case WaitReason::chan_send:
      return "chan send";
    case WaitReason::sleep:
      return "sleep";
    case WaitReason::wait_group:
      return "sync.WaitGroup.Wait";
    case WaitReason::mutex:
      return "sync.Mutex.Lock";
    case WaitReason::io_wait:
      return "IO wait";
    case WaitReason::select:
      return "select";
    case WaitReason::preempted:
      return "preempted";
    case WaitReason::select_no_cases:
      return "select (no cases)";
  }
  return "?";
}

const char* to_string(PStatus s) noexcept {
  switch (s) {
    case PStatus::idle:
      return "idle";
    case PStatus::running:
      return "running";
    case PStatus::syscall:
      return "syscall";
    case PStatus::dead:
      return "dead";
  }
  return "?";
}

namespace debug {

using namespace gort::rt;

std::uint64_t goroutine_id() noexcept {
  G* gp = current_g();
  return gp ? gp->id : 0;
}

int current_p() noexcept {
  if (current_g() == nullptr) return -1;
  P* p = rt::current_p();
  return p ? p->id : -1;
}

Stats stats() noexcept {
  std::lock_guard<os::FutexMutex> lk(sched.debug_lock);
  return collect_stats();
}

}  // namespace debug

namespace rt {
debug::Stats collect_stats() noexcept {
  if (sched.allp == nullptr) return last_run_stats();
  debug::Stats s;
  s.procs = sched.gomaxprocs;
  std::uint64_t exited = 0;
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    const P& p = sched.allp[i];
    s.goroutines_created += p.n_created.load(std::memory_order_relaxed);
    exited += p.n_exited.load(std::memory_order_relaxed);
    s.context_switches += p.n_switches.load(std::memory_order_relaxed);
    s.steals += p.n_steals.load(std::memory_order_relaxed);
    s.syscalls += p.n_syscalls.load(std::memory_order_relaxed);  // Lab 05
    s.syscall_fast_exits += p.n_syscall_fast_exits.load(std::memory_order_relaxed);
  }
  s.goroutines_live = s.goroutines_created >= exited ? s.goroutines_created - exited : 0;
  s.handoffs = sched.n_handoffs.load(std::memory_order_relaxed);
  s.netpoll_wakeups = sched.n_netpoll_wakeups.load(std::memory_order_relaxed);
  s.threads = sched.n_threads.load(std::memory_order_relaxed);
  s.global_runq_puts = sched.n_global_puts.load(std::memory_order_relaxed);
  s.timer_wakeups = sched.n_timer_wakeups.load(std::memory_order_relaxed);
  s.slices_ended = sched.n_slice_ends.load(std::memory_order_relaxed);
  s.retakes = sched.n_retakes.load(std::memory_order_relaxed);
  s.preemptions = sched.n_preemptions.load(std::memory_order_relaxed);
  s.sysmon_rounds = sched.n_sysmon_rounds.load(std::memory_order_relaxed);
  s.steal_attempts = steal_stats.attempts.load(std::memory_order_relaxed);
  s.steal_batches = steal_stats.batches.load(std::memory_order_relaxed);
  s.spinning_peak =
      static_cast<std::uint64_t>(steal_stats.spinning_peak.load(std::memory_order_relaxed));
  s.spinner_wakeups = steal_stats.spinner_wakeups.load(std::memory_order_relaxed);
  trace::add_stats(s);  // scheduling decisions by cause
  return s;
}
}  // namespace rt

namespace debug {

namespace {

/// The body of snapshot(); caller holds debug_lock and sched.lock.
void snapshot_locked(Snapshot& snap) {
  {
    std::lock_guard<os::FutexMutex> lk2(sched.allg_lock);
    for (std::size_t i = 0, n = sched.allgs.size(); i < n; ++i) {
      G* gp = sched.allgs.at(i);
      GStatus st = gp->status.load(std::memory_order_relaxed);
      if (st == GStatus::dead || st == GStatus::idle) continue;
      GInfo gi;
      gi.id = gp->id;
      gi.status = st;
      gi.wait_reason = gp->wait_reason;
      M* m = st == GStatus::running || st == GStatus::syscall ? gp->m : nullptr;
      gi.m = m ? m->id : -1;
      snap.goroutines.push_back(gi);
    }
  }
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    P& p = sched.allp[i];
    PInfo pi;
    pi.id = p.id;
    pi.status = p.status.load(std::memory_order_relaxed);
    pi.schedtick = __atomic_load_n(&p.schedtick, __ATOMIC_RELAXED);
    M* pm = __atomic_load_n(&p.m, __ATOMIC_RELAXED);
    pi.m = pm ? pm->id : -1;
    G* rn = p.runnext.load(std::memory_order_acquire);
    pi.runnext = rn ? rn->id : 0;
    std::uint32_t h = p.runq_head.load(std::memory_order_acquire);
    std::uint32_t t = p.runq_tail.load(std::memory_order_acquire);
    if (t - h <= kRunqSize) {
      for (std::uint32_t k = h; k != t; ++k) {
        G* g = p.runq[k % kRunqSize].load(std::memory_order_relaxed);
        if (g) pi.runq.push_back(g->id);
      }
    }
    pi.runq_len = static_cast<std::uint32_t>(pi.runq.size());
    if (pi.status == PStatus::idle) ++snap.idle_procs;
    snap.procs.push_back(std::move(pi));
  }
  for (std::size_t i = 0, n = sched.allm.size(); i < n; ++i) {
    M* m = sched.allm.at(i);
    MInfo mi;
    mi.id = m->id;
    mi.tid = m->tid;
    G* cg = __atomic_load_n(&m->curg, __ATOMIC_RELAXED);
    mi.curg = cg ? cg->id : 0;
    P* mp = __atomic_load_n(&m->p, __ATOMIC_RELAXED);
    mi.p = mp ? mp->id : -1;
    mi.spinning = __atomic_load_n(&m->spinning, __ATOMIC_RELAXED);
    mi.idle = m->idle.load(std::memory_order_relaxed);
    if (mi.spinning) ++snap.spinning_threads;
    snap.threads.push_back(mi);
  }
  for (G* g = sched.runq_head; g; g = g->schedlink) snap.global_runq.push_back(g->id);
}

}  // namespace

Snapshot snapshot() {
  Snapshot snap;
  std::lock_guard<os::FutexMutex> dlk(sched.debug_lock);
  if (!sched.running.load() || sched.allp == nullptr) return snap;
  snap.running = true;
  {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    GORT_RACY_READS_BEGIN();
    try {
      snapshot_locked(snap);
    } catch (...) {
      GORT_RACY_READS_END();
      throw;
    }
    GORT_RACY_READS_END();
  }
  std::sort(snap.goroutines.begin(), snap.goroutines.end(),
            [](const GInfo& a, const GInfo& b) { return a.id < b.id; });
  return snap;
}

namespace {

/// The body of dump(); the caller has registered itself in sched.dumpers
/// and seen sched.dumpable, so nothing it reads is freed meanwhile.
void dump_published(int fd) noexcept {
  char buf[256];
  P* allp = sched.allp;
  int np = sched.gomaxprocs;
  std::snprintf(buf, sizeof buf,
                "SCHED: gomaxprocs=%d idleprocs=%d threads=%zu spinningthreads=%d "
                "idlethreads=%d runqueue=%d\n",
                np, sched.npidle.load(), sched.allm.size(), sched.nmspinning.load(), sched.nmidle,
                sched.runq_size.load());
  write_all(fd, buf);
  for (int i = 0; i < np; ++i) {
    P& p = allp[i];
    M* pm = __atomic_load_n(&p.m, __ATOMIC_RELAXED);
    G* rn = p.runnext.load(std::memory_order_relaxed);
    std::uint32_t h = p.runq_head.load(), t = p.runq_tail.load();
    std::snprintf(buf, sizeof buf, "  P%d: status=%s schedtick=%llu m=%d runnext=%llu runq=[", i,
                  to_string(p.status.load()), static_cast<unsigned long long>(p.schedtick),
                  pm ? pm->id : -1, static_cast<unsigned long long>(rn ? rn->id : 0));
    write_all(fd, buf);
    if (t - h <= kRunqSize) {
      int shown = 0;
      for (std::uint32_t k = h; k != t && shown < 32; ++k, ++shown) {
        G* g = p.runq[k % kRunqSize].load(std::memory_order_relaxed);
        std::snprintf(buf, sizeof buf, "%s%llu", shown ? " " : "",
                      static_cast<unsigned long long>(g ? g->id : 0));
        write_all(fd, buf);
      }
      if (t - h > 32) write_all(fd, " ...");
    }
    write_all(fd, "]\n");
  }
  std::size_t nm = sched.allm.size();
  for (std::size_t i = 0; i < nm && i < 64; ++i) {
    M* m = sched.allm.at(i);
    G* cg = __atomic_load_n(&m->curg, __ATOMIC_RELAXED);
    P* mp = __atomic_load_n(&m->p, __ATOMIC_RELAXED);
    std::snprintf(buf, sizeof buf, "  M%d: tid=%d p=%d curg=%llu spinning=%d idle=%d\n", m->id,
                  static_cast<int>(m->tid), mp ? mp->id : -1,
                  static_cast<unsigned long long>(cg ? cg->id : 0),
                  static_cast<int>(__atomic_load_n(&m->spinning, __ATOMIC_RELAXED)),
                  static_cast<int>(m->idle.load()));
    write_all(fd, buf);
  }
  std::size_t ng = sched.allgs.size();
  std::size_t shown = 0;
  for (std::size_t i = 0; i < ng && shown < 200; ++i) {
    G* gp = sched.allgs.at(i);
    if (!format_goroutine_header(gp, buf, sizeof buf)) continue;
    ++shown;
    write_all(fd, buf);
  }
  if (shown == 200) write_all(fd, "... (more goroutines not shown)\n");
}

}  // namespace

void dump(int fd) noexcept {
  // No locks, no allocation: the runtime may be wedged holding any lock.
  // Only the end of a run frees what the dump reads; teardown clears
  // `dumpable`, then waits until no dump is in progress (a Dekker-style
  // hand-shake on two seq_cst atomics, so a dump never reads freed memory).
  sched.dumpers.fetch_add(1, std::memory_order_seq_cst);
  if (!sched.dumpable.load(std::memory_order_seq_cst)) {
    sched.dumpers.fetch_sub(1, std::memory_order_seq_cst);
    write_all(fd, "gort: the runtime is not running (no goroutines to show)\n");
    return;
  }
  GORT_RACY_READS_BEGIN();
  dump_published(fd);
  GORT_RACY_READS_END();
  sched.dumpers.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace debug

namespace rt {
bool format_goroutine_header(const G* gp, char* buf, std::size_t size) noexcept {
  GStatus st = gp->status.load(std::memory_order_relaxed);
  if (st == GStatus::dead || st == GStatus::idle) return false;
  const char* what =
      st == GStatus::waiting ? gort::to_string(gp->wait_reason) : gort::to_string(st);
  std::snprintf(buf, size, "goroutine %llu [%s]:\n", static_cast<unsigned long long>(gp->id), what);
  return true;
}
}  // namespace rt
}  // namespace gort

extern "C" void gort_grader_dump_state(int fd) { gort::debug::dump(fd); }
