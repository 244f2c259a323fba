// Lab 05 — blocking system calls hand off the P, and sysmon's policy.
//
// Read rt/hooks.hpp first (the contract of every function here), then
// rt/sysmon.hpp (the constants, sysmon's per-P records, and what is
// provided: sysmon's thread and sleep, preempt_point, acquirep / pidle_get /
// pidle_put / stopm / startm in sched.hpp). The handout
// (labs/05-syscall-handoff/README.md) draws the states.
//
// Until you write them, a system call keeps its P (entersyscall and
// exitsyscall do nothing) and sysmon_tick sends sysmon to its deep sleep,
// so Labs 01-04 keep working; handoffp throws NotImplemented naming its task.
#include <mutex>

#include "not_implemented.hpp"
#include "rt/hooks.hpp"
#include "rt/netpoll.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/sysmon.hpp"

namespace gort::rt {

// ---- Task 1: entering a call, and the fast way out ------------------------

void entersyscall() noexcept {
  // TODO(lab 05, task 1): count the call (bump(p->n_syscalls)); G running
  // -> syscall (cas_status); bump
  // the P's syscalltick; let go of the P (m->p and p->m null) but remember
  // it in m->oldp; then, last, publish P status syscall (release): from
  // that store on sysmon may take the P.
}

void exitsyscall() noexcept {
  // TODO(lab 05, task 1): fast path — CAS the old P from syscall to
  // running: if it works the P is ours again (re-link m->p / p->m, count
  // bump(p->n_syscall_fast_exits)), G syscall -> running, done.
  // TODO(lab 05, task 2): else take an idle P (pidle_get under sched.lock,
  // acquirep); else the slow path on g0 (mcall): G syscall -> runnable on
  // the global queue (globrunq_put_batch), or run it at once if a P came
  // free, and park the M with stopm so the next hand-off reuses its thread.
}

int syscalls_in_progress() noexcept {
  // TODO(lab 05, task 2): the number of goroutines inside a call (a count
  // you keep, or the Gs in status syscall counted under sched.allg_lock).
  return 0;
}

// ---- Task 3: handing the P off --------------------------------------------

void handoffp(P* p) {
  // TODO(lab 05, task 3): count it (sched.n_handoffs). If p has work (its
  // ring or runnext) or the global queue has some, startm(p, false). Else,
  // if no M is spinning or idle, start one spinning (nmspinning 0 -> 1 by
  // CAS, then startm(p, true)). Else, under sched.lock, re-check the global
  // queue and put p on the idle list (pidle_put).
  (void)p;
  throw NotImplemented("lab 05 task 3: handoffp");
}

void entersyscall_block() noexcept {
  // TODO(lab 05, task 3): as entersyscall, but no oldp: the P is handed
  // off at once (handoffp). A failure to make a thread is fatal here.
}

// ---- Tasks 4-5: sysmon ----------------------------------------------------

std::int64_t sysmon_tick(SysmonState& s, std::int64_t now) {
  // TODO(lab 05, task 4): retake — for each P in status syscall: if its
  // syscalltick differs from s.procs[i]'s, record it (and now) and move on:
  // a call gets one full round. Leave it if it has nothing queued and an M
  // is idle or spinning (npidle + nmspinning > 0), for kSyscallGraceNs.
  // Otherwise CAS its status syscall -> idle (the goroutine's exit may win
  // the race: then it is not yours), bump syscalltick, count
  // sched.n_retakes, handoffp.
  // TODO(lab 05, task 5): return kSysmonDeepSleep when every P is idle;
  // else 20 us after a round that did something, doubling after
  // kSysmonIdleRounds idle rounds, at most kSysmonMaxDelayNs. Poll the
  // network (netpoll(false, 0) -> inject_glist) when goroutines wait on it
  // and sysmon has not polled for kSysmonNetpollNs. For a running P whose
  // n_switches has not moved while its thread (running_tid) used
  // kForcePreemptNs of CPU (thread_cpu_ns) and others wait: request_preempt.
  (void)s;
  (void)now;
  return kSysmonDeepSleep;
}

}  // namespace gort::rt
