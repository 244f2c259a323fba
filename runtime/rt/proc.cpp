// The runtime's skeleton (provided with Lab 03): booting and stopping a run,
// starting Ms, the per-M schedule loop on g0, goroutine creation and exit
// around the student's new_proc/goexit_m, and panics.
//
// Lifecycle of one gort::run:
//   1. boot: Config → Ps (all idle but P0), m0 = the calling thread holding
//      P0, goroutine 1 created with new_proc.
//   2. m0 runs schedule_loop on its own stack (its g0). Other Ms are started
//      on demand by wakep/startm (idle.cpp) when there is work and an idle P.
//   3. When goroutine 1 returns, main_exit_m sets sched.exiting and wakes
//      every idle M; each M leaves its loop the next time it is on g0.
//   4. m0 joins the other Ms, frees every G (stacks of goroutines that were
//      still blocked are released without unwinding, as Go simply exits),
//      and run() returns main's value. Nothing survives into the next run
//      except the last run's counters (debug::stats()).
//
// The schedule loop (Go's schedule/execute/mcall) is here because it is the
// glue between the student's pieces: find_runnable → execute (switch to G)
// → G calls mcall(fn) to get back → fn(m, G) on g0 (park_m, gosched_m,
// goexit_m) → loop. fn may return a G to run at once (park whose unlock
// function declined).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

#if defined(GORT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include "gort/gort.hpp"
#include "rt/gstack.hpp"
#include "rt/hooks.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/steal.hpp"
#include "rt/sysmon.hpp"
#include "rt/timers.hpp"
#include "rt/trace.hpp"

namespace gort::rt {

Sched sched;

namespace {
// initial-exec: the runtime is linked into the program (or a library loaded
// at startup), so the position-independent build reads it at a fixed offset
// from the thread pointer instead of through a __tls_get_addr call (whose
// register saves the linker's relaxation leaves behind in every accessor).
[[gnu::tls_model("initial-exec")]] thread_local M* tls_m = nullptr;

/// Closures bigger than this go to the heap instead of the stack top.
constexpr std::size_t kMaxStackClosure = 1024;
/// Default usable stack size of a goroutine.
constexpr std::size_t kDefaultStack = 64 * 1024;

debug::Stats last_stats;  // counters of the last finished run

struct MainClosure {
  int (*fn)(void*);
  void* arg;
};

void main_entry(void* c) {
  auto* mc = static_cast<MainClosure*>(c);
  sched.main_started.store(true, std::memory_order_release);  // wakep may start Ms now
  sched.main_result = mc->fn(mc->arg);
}

}  // namespace

M* current_m() noexcept { return tls_m; }
G* current_g() noexcept {
  M* m = tls_m;
  return m ? m->curg : nullptr;
}
P* current_p() noexcept {
  M* m = tls_m;
  return m ? m->p : nullptr;
}
void set_current_m(M* m) noexcept { tls_m = m; }

std::int64_t nanotime() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint32_t fastrand(std::uint32_t& s) noexcept {
  std::uint32_t x = s ? s : 0x9e3779b9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  s = x;
  return x;
}

std::uint64_t new_goid(P* p) noexcept {
  constexpr std::uint64_t kBatch = 16;  // ids come in batches: no shared counter per go()
  if (p->goid_next == p->goid_end) {
    p->goid_next = sched.goidgen.fetch_add(kBatch, std::memory_order_relaxed) + 1;
    p->goid_end = p->goid_next + kBatch;
  }
  return p->goid_next++;
}

#if defined(GORT_TSAN)
namespace {
// Under TSan every context has a TSan fiber, created at its first switch:
// TSan maps and clears ~768 KiB of per-thread state for each, and every
// later synchronisation pays for the number of fibers ever made. Making a
// fresh one each time a dead G is reused made goroutine-heavy tests crawl
// (10,000 short goroutines on 4 Ps: over 20 s). A reused G keeps its fiber
// instead: the dead goroutine's history happens-before the new one anyway
// (exit, free list, go(), first switch), so no race is hidden. The dead
// goroutine's last few frames stay on the fiber's shadow call stack (it
// never returned), so after kMaxFiberReuses reuses the fiber is replaced.
constexpr std::uint32_t kMaxFiberReuses = 1000;
os::FutexMutex fiber_uses_lock;
std::unordered_map<const G*, std::uint32_t> fiber_uses;  // reuses of each G's fiber

/// True if @p gp may keep its fiber for one more goroutine.
bool keep_fiber(const G* gp) noexcept {
  try {
    std::lock_guard<os::FutexMutex> lk(fiber_uses_lock);
    std::uint32_t& n = fiber_uses[gp];
    if (++n < kMaxFiberReuses) return true;
    n = 0;
  } catch (...) {
  }
  return false;
}

void forget_fiber_uses() noexcept {
  std::lock_guard<os::FutexMutex> lk(fiber_uses_lock);
  fiber_uses.clear();
}
}  // namespace
#endif

void reset_context(G* gp) noexcept {
#if defined(GORT_TSAN)
  if (gp->ctx.tsan_fiber != nullptr && gp->ctx.tsan_owned && keep_fiber(gp)) {
    void* fiber = gp->ctx.tsan_fiber;
    gp->ctx.tsan_fiber = nullptr;  // release_context must not destroy it
    gp->ctx.tsan_owned = false;
    ctx::release_context(gp->ctx);
    gp->ctx = ctx::Context{};
    gp->ctx.tsan_fiber = fiber;
    gp->ctx.tsan_owned = true;
  } else {
    ctx::release_context(gp->ctx);
    gp->ctx = ctx::Context{};
  }
#else
  ctx::release_context(gp->ctx);
  gp->ctx = ctx::Context{};
#endif
#if defined(GORT_ASAN)
  // The dead G left its last frames (and their redzones) poisoned: it never
  // returned from its final switch. A new goroutine starts on a clean stack.
  if (gp->stack.lo) ASAN_UNPOISON_MEMORY_REGION(gp->stack.lo, gp->stack.size);
#endif
}

// ---- panics ----------------------------------------------------------------

void panic(const char* msg) noexcept {
  G* gp = current_g();
  char buf[160];
  write_all(2, "panic: ");
  write_all(2, msg);
  std::snprintf(buf, sizeof buf, "\n\ngoroutine %llu [running]:\n",
                static_cast<unsigned long long>(gp ? gp->id : 0));
  write_all(2, buf);
  write_all(2, "\nexit status 2\n");
  trace::exit_now();
  ::_exit(2);
}

void fatal(const char* msg) noexcept {
  write_all(2, "fatal error: ");
  write_all(2, msg);
  write_all(2, "\n\n");
  G* gp = current_g();
  if (gp) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "goroutine %llu [running]:\n\n",
                  static_cast<unsigned long long>(gp->id));
    write_all(2, buf);
  }
  debug::dump(2);
  write_all(2, "\nexit status 2\n");
  trace::exit_now();
  ::_exit(2);
}

// ---- the schedule loop -----------------------------------------------------

void mcall(AfterSwitch after) noexcept {
  M* m = current_m();
  if (auto probe = switch_out_probe.load(std::memory_order_relaxed)) probe(m->curg);  // tests
  m->after = after;
  ctx::switch_context(m->curg->ctx, m->g0);
  // Resumed — possibly on another M, possibly by a direct hand-off.
  finish_switch(current_m());
}

void finish_switch(M* m) {
  G* prev = m->pending_g;
  if (prev == nullptr) return;
  AfterSwitch fn = m->pending;
  m->pending = nullptr;
  m->pending_g = nullptr;
  if (G* again = fn(m, prev)) runq_put(m->p, again, true);  // park declined: run it next
}

namespace {

G* main_exit_m(M* m, G* gp) {
  (void)m;
  trace::status(gp, GStatus::running, GStatus::dead);
  gp->status.store(GStatus::dead, std::memory_order_relaxed);
  std::lock_guard<os::FutexMutex> lk(sched.lock);
  sched.exiting.store(true, std::memory_order_seq_cst);
  while (M* idle = sched.midle) {
    sched.midle = idle->schedlink;
    --sched.nmidle;
    idle->idle.store(false, std::memory_order_relaxed);
    idle->nextp = nullptr;
    idle->park.wakeup();
  }
  netpoll_break();
  return nullptr;
}

void stack_overflow(G* gp) noexcept {
  char msg[128];
  std::snprintf(msg, sizeof msg,
                "stack overflow in goroutine %llu (its stack canary was overwritten; "
                "use a bigger gort::Config::stack_size)",
                static_cast<unsigned long long>(gp->id));
  fatal(msg);
}

}  // namespace

void switch_from(AfterSwitch after) {
  M* m = current_m();
  G* gp = m->curg;
  if (auto probe = switch_out_probe.load(std::memory_order_relaxed)) probe(gp);  // tests
  P* p = m->p;
  if (!sched.exiting.load(std::memory_order_relaxed)) {
    check_timers(p);
    bool inherit = false;
    if (G* next = next_local_g(p, &inherit)) {
      if (!gstack_intact(gp->stack)) stack_overflow(gp);
      m->pending = after;
      m->pending_g = gp;
      trace::count_stop(p, gp->wait_reason);
      trace::status(next, GStatus::runnable, GStatus::running);
      next->status.store(GStatus::running, std::memory_order_relaxed);
      next->m = m;
      m->curg = next;
      if (!inherit) ++p->schedtick;
      slice_note_run(p, inherit);
      bump(p->n_switches);
      ctx::set_current_stack(&next->stack, next->id);
      ctx::switch_context(gp->ctx, next->ctx);
      finish_switch(current_m());
      return;
    }
  }
  mcall(after);
}

void schedule_loop(M* m) {
  G* next = nullptr;
  bool inherit = false;
  try {
    for (;;) {
      if (next == nullptr) {
        next = find_runnable(m, &inherit);
        if (next == nullptr) return;  // exiting
      }
      ctx::set_current_stack(&next->stack, next->id);
      bump(m->p->n_switches);
      slice_note_run(m->p, inherit);
      execute(m, next, inherit);
      // Back on g0: the goroutine asked for something with mcall.
      G* gp = m->curg;
      m->curg = nullptr;
      if (!gstack_intact(gp->stack)) stack_overflow(gp);
      AfterSwitch after = m->after;
      trace::count_stop(m->p, gp->wait_reason);
      m->after = nullptr;
      next = after(m, gp);
      inherit = true;
      if (sched.exiting.load(std::memory_order_relaxed)) return;
    }
  } catch (const std::exception& e) {
    std::string msg = std::string("exception on the scheduler stack (g0): ") + e.what();
    fatal(msg.c_str());
  }
}

void mstart(M* m) {
  set_current_m(m);
  m->tid = os::Thread::current_tid();
  ctx::install_overflow_handler();
  P* p = m->nextp;
  m->nextp = nullptr;
  if (p != nullptr) {
    m->p = p;
    p->m = m;
    p->status.store(PStatus::running, std::memory_order_relaxed);
    sysmon_wake();  // Lab 05: a P runs again
    trace::p_owner(p, m, true);
    schedule_loop(m);
  }
  set_current_m(nullptr);
}

namespace {

int procs_from(const Config& cfg) {
  if (cfg.procs < 0 || cfg.procs > kMaxProcs) {
    throw std::invalid_argument("gort::Config::procs must be between 1 and " +
                                std::to_string(kMaxProcs) + " (0 = default), got " +
                                std::to_string(cfg.procs));
  }
  if (cfg.procs > 0) return cfg.procs;
  if (const char* env = std::getenv("GORT_PROCS"); env && *env) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*end != '\0' || n <= 0 || n > kMaxProcs) {
      throw std::invalid_argument(std::string("GORT_PROCS must be a number of processors "
                                              "between 1 and ") +
                                  std::to_string(kMaxProcs) + ", got '" + env + "'");
    }
    return static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  if (hw > static_cast<unsigned>(kMaxProcs)) hw = kMaxProcs;
  return hw ? static_cast<int>(hw) : 1;
}

G* g_alloc() {
  G* gp = new G;
  try {
    gp->stack = gstack_alloc(sched.stack_size);
  } catch (...) {
    delete gp;
    throw;
  }
  gp->status.store(GStatus::dead, std::memory_order_relaxed);
  try {
    std::lock_guard<os::FutexMutex> lk(sched.allg_lock);
    sched.allgs.push_back(gp);
  } catch (...) {
    gstack_free(gp->stack);
    delete gp;
    throw;
  }
  return gp;
}

/// Puts the closure storage of @p gp: at the top of its stack if small.
void* place_closure(G* gp, std::size_t size, std::size_t align) {
  if (align < alignof(std::max_align_t)) align = alignof(std::max_align_t);
  if (size <= kMaxStackClosure && align <= 256) {
    auto top = reinterpret_cast<std::uintptr_t>(gp->stack.hi()) - size;
    top &= ~(static_cast<std::uintptr_t>(align) - 1);
    gp->heap_closure = false;
    gp->closure = reinterpret_cast<void*>(top);
  } else {
    gp->heap_closure = true;
    gp->closure = ::operator new (size, std::align_val_t{align});
    gp->box_align = static_cast<std::uint32_t>(align);
  }
  return gp->closure;
}

void free_closure(G* gp) noexcept {
  if (gp->heap_closure && gp->closure) {
    ::operator delete (gp->closure, std::align_val_t{gp->box_align});
  }
  gp->heap_closure = false;
  gp->closure = nullptr;
}

/// Frees everything of the run; called on the booting thread once every
/// other M has returned (or before any was started). @p m0 may be null when
/// the boot failed before making it; whatever the boot made is freed.
void teardown(M* m0) {
  sched.exiting.store(true);
  // Lab 05: sysmon first (it may start Ms), then the goroutines still inside
  // gort::syscall: their Ms are joined below, so wait for their calls.
  sysmon_stop();
  wait_for_syscalls();
  // No M is made once exiting is set (startm checks it under sched.lock), so
  // the list read under the lock is final.
  std::size_t nm;
  {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    nm = sched.allm.size();
  }
  for (std::size_t i = 0; i < nm; ++i) {
    M* m = sched.allm.at(i);
    if (m != m0 && m->thread.joinable()) m->thread.join();
  }
  ctx::uninstall_overflow_handler();  // the program's own SIGSEGV/SIGBUS handlers come back
  set_current_m(nullptr);
  trace::end_run();  // writes the execution trace (GORT_TRACE), stops schedtrace
  // Every M has stopped. A hang dump in progress (another thread's signal
  // handler) finishes before anything is freed; later ones see no run.
  sched.dumpable.store(false, std::memory_order_seq_cst);
  while (sched.dumpers.load(std::memory_order_seq_cst) > 0) std::this_thread::yield();
  // debug::stats()/snapshot() from other threads wait on debug_lock until
  // the run is gone, then see the saved counters.
  std::lock_guard<os::FutexMutex> dlk(sched.debug_lock);
  if (sched.allp != nullptr) last_stats = collect_stats();
  trace::teardown();
  std::size_t ng = sched.allgs.size();
  for (std::size_t i = 0; i < ng; ++i) {
    G* gp = sched.allgs.at(i);
    if (gp->heap_closure) free_closure(gp);
    ctx::release_context(gp->ctx);
    gstack_free(gp->stack);
    delete gp;
  }
  sched.allgs.reset();
#if defined(GORT_TSAN)
  forget_fiber_uses();
#endif
  gstack_release_all();
  for (std::size_t i = 0; i < nm; ++i) delete sched.allm.at(i);
  sched.allm.reset();
  delete[] sched.allp;
  sched.allp = nullptr;
  delete[] sched.slices;
  sched.slices = nullptr;
  sched.gomaxprocs = 0;
  sched.runq_head = sched.runq_tail = nullptr;
  sched.runq_size.store(0);
  sched.gfree = nullptr;
  sched.gfree_count.store(0);
  sched.pidle = nullptr;
  sched.npidle.store(0);
  sched.midle = nullptr;
  sched.nmidle = 0;
  sched.nmspinning.store(0);
  timers_reset();
  netpoll_reset();
}

}  // namespace

void goroutine_main(void* arg) noexcept {
  G* gp = static_cast<G*>(arg);
  finish_switch(current_m());  // started by a direct hand-off?
  try {
    gp->entry(gp->closure);
  } catch (const std::exception& e) {
    panic(e.what());
  } catch (...) {
    panic("an exception of unknown type escaped the goroutine");
  }
  free_closure(gp);
  bump(current_p()->n_exited);
  if (gp->is_main) {
    mcall(main_exit_m);
  } else if (kDirectHandoff) {
    switch_from(goexit_m);
  } else {
    mcall(goexit_m);
  }
  fatal("a dead goroutine was resumed");
}

debug::Stats last_run_stats() noexcept { return last_stats; }

}  // namespace gort::rt

namespace gort::detail {

using namespace gort::rt;

void throw_outside_run(const char* what) {
  throw std::logic_error(std::string("gort::") + what +
                         " called outside gort::run — start the runtime with gort::run(main) "
                         "first, and call it from goroutines");
}

int run_main(int (*main_fn)(void*), void* arg, const Config& cfg) {
  if (current_m() != nullptr) {
    throw std::logic_error(
        "gort::run called inside gort::run — there is one runtime; start goroutines with "
        "gort::go instead");
  }
  bool expected = false;
  if (!sched.running.compare_exchange_strong(expected, true)) {
    throw std::logic_error(
        "gort::run called while another thread is inside gort::run — runs must not overlap");
  }
  int procs = 0;
  int max_threads = 0;
  try {
    procs = procs_from(cfg);
    max_threads = max_threads_of(cfg.max_threads);  // Lab 05
  } catch (...) {
    sched.running.store(false);
    throw;
  }
  long page = ::sysconf(_SC_PAGESIZE);
  std::size_t ss = cfg.stack_size ? cfg.stack_size : kDefaultStack;
  ss = (ss + static_cast<std::size_t>(page) - 1) & ~(static_cast<std::size_t>(page) - 1);
  if (ss < 16 * 1024) ss = 16 * 1024;

  // Boot. Whatever throws (an allocation, a thread, the first goroutine)
  // undoes it all and leaves the runtime ready for the next run().
  M* m0 = nullptr;
  try {
    {
      // Published under debug_lock: debug::stats()/snapshot() on another
      // thread see either no run or a complete one.
      std::lock_guard<os::FutexMutex> dlk(sched.debug_lock);
      sched.exiting.store(false);
      sched.main_result = 0;
      sched.goidgen.store(0);
      sched.n_threads.store(1);
      sched.n_global_puts.store(0);
      sched.n_handoffs.store(0);
      sched.n_netpoll_wakeups.store(0);
      sched.n_timer_wakeups.store(0);
      sched.n_slice_ends.store(0);
      sched.n_retakes.store(0);  // Lab 05
      sched.n_preemptions.store(0);
      sched.n_sysmon_rounds.store(0);
      sched.max_threads = max_threads;
      steal_reset(procs);  // Lab 06's counters and steal order
      sched.main_started.store(false);
      sched.stack_size = ss;
      trace::boot(cfg, procs);  // GORT_TRACE, GORT_SCHEDTRACE; the cause counters
      std::unique_ptr<P[]> allp(new P[static_cast<std::size_t>(procs)]);
      std::unique_ptr<SliceClock[]> slices(new SliceClock[static_cast<std::size_t>(procs)]);
      auto m = std::make_unique<M>();
      for (int i = procs - 1; i >= 0; --i) {
        P* p = &allp[static_cast<std::size_t>(i)];
        p->id = i;
        p->rand_state = 0x9e3779b9u * static_cast<std::uint32_t>(i + 1);
        if (i > 0) {
          p->link = sched.pidle;
          sched.pidle = p;
          sched.npidle.fetch_add(1);
        }
      }
      m->id = 0;
      m->tid = os::Thread::current_tid();
      m->rand_state = 0x2545f491u;
      m->p = &allp[0];
      allp[0].m = m.get();
      allp[0].status.store(PStatus::running);
      sched.allm.push_back(m.get());  // may throw: nothing is published yet
      m0 = m.release();
      sched.allp = allp.release();
      sched.slices = slices.release();
      sched.gomaxprocs = procs;
    }
    sched.dumpable.store(true, std::memory_order_seq_cst);
    set_current_m(m0);
    P* p0 = &sched.allp[0];

    ctx::install_overflow_handler();
    G* gp = g_alloc();
    auto* mc =
        static_cast<MainClosure*>(place_closure(gp, sizeof(MainClosure), alignof(MainClosure)));
    mc->fn = main_fn;
    mc->arg = arg;
    gp->entry = main_entry;
    gp->is_main = true;
    new_proc(gp);
    bump(p0->n_created);
    sysmon_start();  // Lab 05
  } catch (...) {
    teardown(m0);
    sched.running.store(false);
    throw;
  }
  schedule_loop(m0);
  teardown(m0);
  int result = sched.main_result;
  sched.running.store(false);
  return result;
}

void* go_reserve(std::size_t size, std::size_t align, void** handle) {
  if (current_g() == nullptr) throw_outside_run("go");
  preempt_point();  // Lab 05: a scheduling point (may resume on another M)
  M* m = current_m();
  G* gp = gfget(m->p);
  if (gp == nullptr) gp = g_alloc();
  *handle = gp;
  return place_closure(gp, size, align);
}

void go_commit(void* handle, void (*entry)(void*)) noexcept {
  G* gp = static_cast<G*>(handle);
  gp->entry = entry;
  gp->is_main = false;
  try {
    new_proc(gp);
    bump(current_p()->n_created);
  } catch (const std::exception& e) {
    // new_proc is noexcept in spirit; a starter stub throws NotImplemented.
    panic(e.what());
  }
}

void go_abandon(void* handle) noexcept {
  G* gp = static_cast<G*>(handle);
  free_closure(gp);
  gfput(current_p(), gp);
}

}  // namespace gort::detail

namespace gort {

void yield() {
  if (rt::current_g() == nullptr) detail::throw_outside_run("yield");
  rt::gosched();
}

void sleep_for(std::chrono::nanoseconds d) {
  if (rt::current_g() == nullptr) detail::throw_outside_run("sleep_for");
  if (d.count() <= 0) {
    rt::gosched();
    return;
  }
  // Clamp: now + d must not overflow (a deadline in the past would wake the
  // sleeper at once). Deadlines past kTimerForever (some 292 years of
  // uptime) mean "never"; a goroutine sleeping that long is still a pending
  // timer, not a deadlock.
  std::int64_t now = rt::nanotime();
  std::int64_t when = d.count() < rt::kTimerForever - now ? now + d.count() : rt::kTimerForever;
  rt::timer_sleep_until(when);
}

}  // namespace gort
