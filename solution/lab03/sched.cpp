// Lab 03, task 2 — the heart of the scheduler: picking the next G, switching
// to it, parking and readying, creating and ending goroutines.
//
// The basic path is G → g0 → G'. A goroutine that must stop running (it
// parks, yields or exits) calls mcall(fn): its registers are saved into its
// G, the M's g0 context resumes inside execute(), and the schedule loop
// (provided, runtime/rt/proc.cpp) runs fn(m, gp) there — on the thread's own
// stack, no longer on gp's. Only then is it safe to let others see gp as
// waiting or runnable: another M might resume gp immediately. This finished
// copy also sets kDirectHandoff: when this P already has its next G, the
// provided switch_from goes G → G' directly, and still runs fn(m, gp) only
// once gp is off its stack (half the switches; Go itself always goes
// through g0).
//
// Go's state machine (see runtime/rt/g.hpp) is enforced here: every
// transition is made by exactly one party, at the point where it is the only
// one that can see the G. A G is never on two queues, never resumed twice.
//
// Optimization: the transitions only one party can make (the M running the
// G, or the one that just took it off a queue or free list) use
// set_status_owned — a checked load and store, no locked instruction; ready(),
// which another M may race with, keeps the compare-and-swap.
//
// Time slices: a G taken from runnext *inherits* the slice (schedtick is not
// bumped), so a ping-pong pair of goroutines runs as one unit; the 1-in-61
// global-queue check counts schedticks.
#include <cstdio>
#include <cstdlib>

#include "rt/runq.hpp"
#include "rt/sched.hpp"

namespace gort::rt {

// Optimization: park, gosched and goroutine exit switch straight to the
// next local G when there is one (switch_from), halving the switches.
extern const bool kDirectHandoff = true;

G* find_runnable_fast(P* p, bool* inherit_time) {
  // Fairness: once in a while take from the global queue first, or two
  // goroutines that keep each other busy on the local queue would starve it.
  if (p->schedtick % kGlobalCheckTicks == 0 &&
      sched.runq_size.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    if (G* gp = globrunq_get(p, 1)) {
      *inherit_time = false;
      return gp;
    }
  }
  if (G* gp = runq_get(p, inherit_time)) return gp;
  if (sched.runq_size.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    if (G* gp = globrunq_get(p, 0)) {
      *inherit_time = false;
      return gp;
    }
  }
  return nullptr;
}

void execute(M* m, G* gp, bool inherit_time) {
  P* p = m->p;
  set_status_owned(gp, GStatus::runnable, GStatus::running);
  gp->m = m;
  m->curg = gp;
  if (!inherit_time) ++p->schedtick;
  ctx::switch_context(m->g0, gp->ctx);
}

void park(bool (*unlockf)(G* gp, void* arg), void* arg, WaitReason reason) {
  M* m = current_m();
  m->curg->wait_reason = reason;
  m->wait_unlock = unlockf;
  m->wait_arg = arg;
  switch_from(park_m);
}

G* park_m(M* m, G* gp) {
  set_status_owned(gp, GStatus::running, GStatus::waiting);
  auto unlockf = m->wait_unlock;
  void* arg = m->wait_arg;
  m->wait_unlock = nullptr;
  m->wait_arg = nullptr;
  if (unlockf != nullptr && !unlockf(gp, arg)) {
    // Nothing to wait for after all: resume gp at once, same time slice.
    gp->wait_reason = WaitReason::none;
    set_status_owned(gp, GStatus::waiting, GStatus::runnable);
    return gp;
  }
  return nullptr;
}

void ready(G* gp) {
  // The CAS is the check: only a waiting G may be readied (a second ready of
  // the same G, or a ready of a G still on its stack, is a fatal error).
  cas_status(gp, GStatus::waiting, GStatus::runnable);
  gp->wait_reason = WaitReason::none;
  runq_put(current_p(), gp, true);
  wakep();
}

void gosched() { switch_from(gosched_m); }

G* gosched_m(M* m, G* gp) {
  // To the tail of the local ring: everything already queued runs first.
  set_status_owned(gp, GStatus::running, GStatus::runnable);
  runq_put(m->p, gp, false);
  return nullptr;
}

void new_proc(G* gp) {
  reset_context(gp);
  // The closure sits at the top of the stack (or on the heap): the context
  // gets the bytes below it.
  char* lo = static_cast<char*>(gp->stack.lo);
  char* top =
      gp->heap_closure ? static_cast<char*>(gp->stack.hi()) : static_cast<char*>(gp->closure);
  std::size_t usable = static_cast<std::size_t>(top - lo) & ~std::size_t{15};
  ctx::make_context(gp->ctx, lo, usable, goroutine_main, gp);
  P* p = current_p();
  gp->id = new_goid(p);
  gp->wait_reason = WaitReason::none;
  set_status_owned(gp, GStatus::dead, GStatus::runnable);
  runq_put(p, gp, true);
  wakep();
}

G* goexit_m(M* m, G* gp) {
  set_status_owned(gp, GStatus::running, GStatus::dead);
  gp->m = nullptr;
  gp->entry = nullptr;
  gfput(m->p, gp);
  return nullptr;
}

void gfput(P* p, G* gp) {
  gp->schedlink = p->gfree;
  p->gfree = gp;
  if (++p->gfree_count < kGfreeMax) return;
  // Too many: keep half, give the rest to other Ps through the global list.
  G* head = nullptr;
  G* tail = nullptr;
  std::int32_t moved = 0;
  while (p->gfree_count > kGfreeMax / 2) {
    G* g = p->gfree;
    p->gfree = g->schedlink;
    --p->gfree_count;
    g->schedlink = head;
    head = g;
    if (!tail) tail = g;
    ++moved;
  }
  std::lock_guard<os::FutexMutex> lk(sched.lock);
  tail->schedlink = sched.gfree;
  sched.gfree = head;
  sched.gfree_count.fetch_add(moved, std::memory_order_relaxed);
}

G* gfget(P* p) {
  if (p->gfree == nullptr && sched.gfree_count.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    while (p->gfree_count < kGfreeMax / 2 && sched.gfree != nullptr) {
      G* g = sched.gfree;
      sched.gfree = g->schedlink;
      sched.gfree_count.fetch_sub(1, std::memory_order_relaxed);
      g->schedlink = p->gfree;
      p->gfree = g;
      ++p->gfree_count;
    }
  }
  G* gp = p->gfree;
  if (gp) {
    p->gfree = gp->schedlink;
    --p->gfree_count;
    gp->schedlink = nullptr;
  }
  return gp;
}

}  // namespace gort::rt
