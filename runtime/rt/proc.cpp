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
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#if defined(GORT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include "gort/gort.hpp"
#include "rt/gstack.hpp"
#include "rt/hooks.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/timers.hpp"

namespace gort::rt {

Sched sched;

namespace {
thread_local M* tls_m = nullptr;

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
  sched.main_result = mc->fn(mc->arg);
}

}  // namespace

void write_all(int fd, const char* s) noexcept {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

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

void reset_context(G* gp) noexcept {
  ctx::release_context(gp->ctx);
  gp->ctx = ctx::Context{};
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
  ::_exit(2);
}

// ---- the schedule loop -----------------------------------------------------

void mcall(AfterSwitch after) noexcept {
  M* m = current_m();
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
  P* p = m->p;
  if (!sched.exiting.load(std::memory_order_relaxed)) {
    check_timers(p);
    bool inherit = false;
    if (G* next = find_runnable_fast(p, &inherit)) {
      if (!gstack_intact(gp->stack)) stack_overflow(gp);
      m->pending = after;
      m->pending_g = gp;
      next->status.store(GStatus::running, std::memory_order_relaxed);
      next->m = m;
      m->curg = next;
      if (!inherit) ++p->schedtick;
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
      execute(m, next, inherit);
      // Back on g0: the goroutine asked for something with mcall.
      G* gp = m->curg;
      m->curg = nullptr;
      if (!gstack_intact(gp->stack)) stack_overflow(gp);
      AfterSwitch after = m->after;
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
    schedule_loop(m);
  }
  set_current_m(nullptr);
}

namespace {

int procs_from(const Config& cfg) {
  if (cfg.procs > 0) return cfg.procs;
  if (cfg.procs < 0) {
    throw std::invalid_argument("gort::Config::procs must be >= 0 (0 = default), got " +
                                std::to_string(cfg.procs));
  }
  if (const char* env = std::getenv("GORT_PROCS"); env && *env) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*end != '\0' || n <= 0 || n > 1024) {
      throw std::invalid_argument(std::string("GORT_PROCS must be a number of processors "
                                              "between 1 and 1024, got '") +
                                  env + "'");
    }
    return static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
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
  std::lock_guard<os::FutexMutex> lk(sched.allg_lock);
  sched.allgs.push_back(gp);
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

void save_stats() { last_stats = debug::stats(); }

/// Frees everything of the run; called on the booting thread once every
/// other M has returned (or before any was started).
void teardown(M* m0) {
  sched.exiting.store(true);
  std::vector<M*> ms;
  {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    ms = sched.allm;
  }
  for (M* m : ms) {
    if (m != m0 && m->thread.joinable()) m->thread.join();
  }
  save_stats();
  set_current_m(nullptr);
  for (G* gp : sched.allgs) {
    if (gp->heap_closure) free_closure(gp);
    ctx::release_context(gp->ctx);
    gstack_free(gp->stack);
    delete gp;
  }
  sched.allgs.clear();
  sched.allgs.shrink_to_fit();
  gstack_release_all();
  for (M* m : ms) delete m;
  sched.allm.clear();
  delete[] sched.allp;
  sched.allp = nullptr;
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
  try {
    procs = procs_from(cfg);
  } catch (...) {
    sched.running.store(false);
    throw;
  }
  long page = ::sysconf(_SC_PAGESIZE);
  std::size_t ss = cfg.stack_size ? cfg.stack_size : kDefaultStack;
  ss = (ss + static_cast<std::size_t>(page) - 1) & ~(static_cast<std::size_t>(page) - 1);
  if (ss < 16 * 1024) ss = 16 * 1024;

  sched.exiting.store(false);
  sched.main_result = 0;
  sched.goidgen.store(0);
  sched.n_threads.store(1);
  sched.n_global_puts.store(0);
  sched.n_handoffs.store(0);
  sched.n_netpoll_wakeups.store(0);
  sched.stack_size = ss;
  sched.gomaxprocs = procs;
  sched.allp = new P[static_cast<std::size_t>(procs)];
  for (int i = procs - 1; i >= 0; --i) {
    P* p = &sched.allp[i];
    p->id = i;
    p->rand_state = 0x9e3779b9u * static_cast<std::uint32_t>(i + 1);
    if (i > 0) {
      p->link = sched.pidle;
      sched.pidle = p;
      sched.npidle.fetch_add(1);
    }
  }
  M* m0 = new M;
  m0->id = 0;
  m0->tid = os::Thread::current_tid();
  m0->rand_state = 0x2545f491u;
  sched.allm.push_back(m0);
  set_current_m(m0);
  P* p0 = &sched.allp[0];
  m0->p = p0;
  p0->m = m0;
  p0->status.store(PStatus::running);

  try {
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
  M* m = current_m();
  if (m == nullptr || m->curg == nullptr) throw_outside_run("go");
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
  rt::timer_sleep_until(rt::nanotime() + d.count());
}

}  // namespace gort
