// Lab 03, task 2 — the heart of the scheduler: picking the next G, switching
// to it, parking and readying, creating and ending goroutines.
//
// Every switch goes G → g0 → G'. A goroutine that must stop running (it
// parks, yields or exits) calls mcall(fn): its registers are saved into its
// G, the M's g0 context resumes inside execute(), and the schedule loop
// (provided, runtime/rt/proc.cpp) runs fn(m, gp) there — on the
// thread's own stack, no longer on gp's. Only then is it safe to let others
// see gp as waiting or runnable: another M might resume gp immediately.
//
// Read runtime/rt/sched.hpp (every contract is there), g.hpp (the state
// machine) and the provided proc.cpp/idle.cpp (who calls what) first.
//
// Change a G's status only with cas_status(gp, from, to) (runtime/rt/g.hpp,
// Go's casgstatus): it checks that gp really was in `from` and otherwise
// stops with a fatal error naming the transition — the graders rely on it.
#include <cstdio>

#include "not_implemented.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"

namespace gort::rt {

// Optional challenge (after everything passes): set this to true and make
// park/gosched call switch_from instead of mcall — a G then switches
// straight to the next one when this P has one. See runtime/rt/sched.hpp.
extern const bool kDirectHandoff = false;

G* find_runnable_fast(P* p, bool* inherit_time) {
  // TODO(lab 03, task 2): (1) if p->schedtick % kGlobalCheckTicks == 0 and
  // the global queue is not empty, take ONE G from it (globrunq_get(p, 1)
  // under sched.lock); (2) runq_get; (3) a batch from the global queue
  // (globrunq_get(p, 0)). Global Gs do not inherit the time slice.
  (void)p;
  (void)inherit_time;
  throw gort::NotImplemented("lab 03 task 2: find_runnable_fast");
}

void execute(M* m, G* gp, bool inherit_time) {
  // TODO(lab 03, task 2): cas_status(gp, runnable, running), link gp->m and m->curg, bump
  // m->p->schedtick unless inherit_time, then ctx::switch_context(m->g0,
  // gp->ctx). It returns when gp calls mcall().
  (void)m;
  (void)gp;
  (void)inherit_time;
  throw gort::NotImplemented("lab 03 task 2: execute");
}

void park(bool (*unlockf)(G* gp, void* arg), void* arg, WaitReason reason) {
  // TODO(lab 03, task 2): record the wait reason on the current G and the
  // unlock function/argument on the current M, then mcall(park_m).
  (void)unlockf;
  (void)arg;
  (void)reason;
  throw gort::NotImplemented("lab 03 task 2: park");
}

G* park_m(M* m, G* gp) {
  // TODO(lab 03, task 2): on g0: gp becomes waiting (running -> waiting);
  // call the M's unlock function (clear it first). If it returns false, gp
  // becomes runnable again (waiting -> runnable) and is returned to run at
  // once; else return nullptr.
  (void)m;
  (void)gp;
  throw gort::NotImplemented("lab 03 task 2: park_m");
}

void ready(G* gp) {
  // TODO(lab 03, task 2): cas_status(gp, waiting, runnable) — that is the
  // check: readying a G that is not waiting is a fatal error; put it in the
  // current P's runnext (runq_put(..., true)), then wakep() so an idle P
  // can pick up the work.
  (void)gp;
  throw gort::NotImplemented("lab 03 task 2: ready");
}

void gosched() {
  // TODO(lab 03, task 2): mcall(gosched_m).
  throw gort::NotImplemented("lab 03 task 2: gosched");
}

G* gosched_m(M* m, G* gp) {
  // TODO(lab 03, task 2): gp becomes runnable (running -> runnable) and goes
  // to the TAIL of m's P (not runnext: everything already queued runs first).
  (void)m;
  (void)gp;
  throw gort::NotImplemented("lab 03 task 2: gosched_m");
}

void new_proc(G* gp) {
  // TODO(lab 03, task 2): reset_context(gp); the usable stack is from
  // gp->stack.lo up to the closure (gp->closure, or the stack top if
  // gp->heap_closure), rounded down to 16 bytes; ctx::make_context(gp->ctx,
  // lo, usable, goroutine_main, gp); a new id (new_goid); dead -> runnable;
  // into the current P's runnext; wakep().
  (void)gp;
  throw gort::NotImplemented("lab 03 task 2: new_proc");
}

G* goexit_m(M* m, G* gp) {
  // TODO(lab 03, task 2): gp becomes dead (running -> dead); clear gp->m and gp->entry; put it
  // on m's P free list (gfput). Return nullptr.
  (void)m;
  (void)gp;
  throw gort::NotImplemented("lab 03 task 2: goexit_m");
}

void gfput(P* p, G* gp) {
  // TODO(lab 03, task 2): push gp on p->gfree (through schedlink); when
  // gfree_count reaches kGfreeMax, move Gs to sched.gfree (under
  // sched.lock) until kGfreeMax / 2 remain.
  (void)p;
  (void)gp;
  throw gort::NotImplemented("lab 03 task 2: gfput");
}

G* gfget(P* p) {
  // TODO(lab 03, task 2): if p->gfree is empty and sched.gfree_count > 0,
  // refill up to kGfreeMax / 2 from sched.gfree under sched.lock; then pop
  // one (or return nullptr).
  (void)p;
  throw gort::NotImplemented("lab 03 task 2: gfget");
}

}  // namespace gort::rt
