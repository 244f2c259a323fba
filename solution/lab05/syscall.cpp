// Lab 05 — blocking system calls hand off the P, and sysmon's policy
// (reference solution).
//
// Read rt/hooks.hpp (the contracts) and rt/sysmon.hpp (the constants, what
// is provided) first. The states a call moves through (Go's names):
//
//   entersyscall:  G running → syscall, P running → syscall, m->p = null,
//                  m->oldp = P. Nothing else: most calls are short.
//   exitsyscall:   (fast) CAS P syscall → running: it is ours again.
//                  (idle) else take an idle P.
//                  (slow) else on g0: G syscall → runnable on the global
//                  queue, and the M parks on the idle-M list (stopm) to be
//                  reused by the next hand-off.
//   sysmon retake: a P seen in the same call (same syscalltick) for a full
//                  round: CAS syscall → idle, then handoffp — unless it has
//                  nothing queued and another M is idle or spinning, for up
//                  to 10 ms.
//   entersyscall_block: the P is handed off at once.
#include <mutex>

#include "rt/hooks.hpp"
#include "rt/netpoll.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/sysmon.hpp"

namespace gort::rt {

namespace {

/// The slow path of exitsyscall, on g0 (Go's exitsyscall0): gp's P was
/// taken and no P is idle. gp goes to the global queue and m parks for reuse.
G* exitsyscall0(M* m, G* gp) {
  cas_status(gp, GStatus::syscall, GStatus::runnable);
  P* p;
  {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    p = pidle_get();
    if (p == nullptr) {
      gp->schedlink = nullptr;
      globrunq_put_batch(gp, gp, 1);
    }
  }
  if (p != nullptr) {  // a P came free meanwhile: run gp on it
    acquirep(m, p);
    return gp;
  }
  stopm(m);  // on the idle-M list until a hand-off needs a thread
  return nullptr;
}

/// Marks the running goroutine and its P as in a call; returns the P.
P* reentersyscall(M* m) {
  G* gp = m->curg;
  P* p = m->p;
  bump(p->n_syscalls);
  cas_status(gp, GStatus::running, GStatus::syscall);
  // Only the P's holder writes syscalltick (sysmon, after a retake's CAS):
  // no locked instruction needed.
  p->syscalltick.store(p->syscalltick.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  // Detach before publishing the status: from the store on, sysmon may take
  // the P and give it to another M.
  m->p = nullptr;
  p->m = nullptr;
  return p;
}

/// Go's retake: Ps in a call for a full round go to another M. Returns how
/// many were taken. Also asks long-running goroutines to yield.
int retake(SysmonState& s, std::int64_t now) {
  int n = 0;
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    P* p = &sched.allp[i];
    SysmonP& rec = s.procs[i];
    PStatus st = p->status.load(std::memory_order_acquire);
    if (st == PStatus::syscall) {
      std::uint32_t t = p->syscalltick.load(std::memory_order_relaxed);
      if (rec.syscalltick != t) {  // a new call since last round: give it a full round
        rec.syscalltick = t;
        rec.syscallwhen = now;
        continue;
      }
      // Nothing for it to do and someone else could take new work: leave it
      // (the call may return soon) for up to kSyscallGraceNs.
      if (runq_empty(p) &&
          sched.nmspinning.load(std::memory_order_relaxed) +
                  sched.npidle.load(std::memory_order_relaxed) >
              0 &&
          now - rec.syscallwhen < kSyscallGraceNs) {
        continue;
      }
      PStatus expect = PStatus::syscall;
      if (p->status.compare_exchange_strong(expect, PStatus::idle, std::memory_order_acq_rel)) {
        p->syscalltick.store(p->syscalltick.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
        sched.n_retakes.fetch_add(1, std::memory_order_relaxed);
        ++n;
        handoffp(p);
      }
    } else if (st == PStatus::running) {
      // Preemption: the same switch count for kForcePreemptNs of its thread's
      // CPU time, while others wait, means one goroutine kept the P.
      std::uint64_t sw = p->n_switches.load(std::memory_order_relaxed);
      pid_t tid = running_tid(p);
      if (sw != rec.switches || tid != rec.tid || tid == 0) {
        rec.switches = sw;  // it switched since last round: a new slice
        rec.tid = tid;
        rec.cpu_at = -1;  // read its thread's clock only if the slice lasts
        continue;
      }
      if (runq_empty(p) && sched.runq_size.load(std::memory_order_relaxed) == 0) continue;
      std::int64_t cpu = thread_cpu_ns(tid);
      if (rec.cpu_at < 0) {
        rec.cpu_at = cpu;
        continue;
      }
      if (cpu >= 0 && rec.cpu_at >= 0 && cpu - rec.cpu_at >= kForcePreemptNs) {
        request_preempt(p);
        rec.cpu_at = cpu;  // ask again only after another full slice
        ++n;
      }
    }
  }
  return n;
}

}  // namespace

void entersyscall() noexcept {
  M* m = current_m();
  P* p = reentersyscall(m);
  m->oldp = p;
  p->status.store(PStatus::syscall, std::memory_order_release);
}

void entersyscall_block() noexcept {
  M* m = current_m();
  P* p = reentersyscall(m);
  m->oldp = nullptr;
  p->status.store(PStatus::idle, std::memory_order_relaxed);  // held by nobody: hand it on
  try {
    handoffp(p);
  } catch (const std::exception& e) {
    fatal(e.what());  // no thread for the P (std::system_error)
  }
}

void exitsyscall() noexcept {
  M* m = current_m();
  G* gp = m->curg;
  P* oldp = m->oldp;
  m->oldp = nullptr;
  // Fast path: nobody retook the P.
  PStatus expect = PStatus::syscall;
  if (oldp != nullptr &&
      oldp->status.compare_exchange_strong(expect, PStatus::running, std::memory_order_acq_rel)) {
    m->p = oldp;
    oldp->m = m;
    bump(oldp->n_syscall_fast_exits);
    cas_status(gp, GStatus::syscall, GStatus::running);
    return;
  }
  // An idle P will do.
  if (sched.npidle.load(std::memory_order_relaxed) > 0) {
    P* p;
    {
      std::lock_guard<os::FutexMutex> lk(sched.lock);
      p = pidle_get();
    }
    if (p != nullptr) {
      acquirep(m, p);
      cas_status(gp, GStatus::syscall, GStatus::running);
      return;
    }
  }
  // Slow path: queue the goroutine; resumed later, possibly on another M.
  mcall(exitsyscall0);
}

int syscalls_in_progress() noexcept {
  // Counted when asked (rarely: the deadlock check, teardown) rather than
  // kept in a shared counter that every call would bump twice.
  int n = 0;
  std::lock_guard<os::FutexMutex> lk(sched.allg_lock);
  for (std::size_t i = 0, k = sched.allgs.size(); i < k; ++i) {
    n += sched.allgs.at(i)->status.load(std::memory_order_relaxed) == GStatus::syscall;
  }
  return n;
}

void handoffp(P* p) {
  sched.n_handoffs.fetch_add(1, std::memory_order_relaxed);
  // Work waits for it: give it to an M now.
  if (!runq_empty(p) || sched.runq_size.load(std::memory_order_relaxed) > 0) {
    startm(p, false);
    return;
  }
  // No M is spinning or idle to pick up work that arrives: start one spinning.
  if (sched.nmspinning.load(std::memory_order_relaxed) +
          sched.npidle.load(std::memory_order_relaxed) ==
      0) {
    std::int32_t zero = 0;
    if (sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) {
      startm(p, true);
      return;
    }
  }
  std::unique_lock<os::FutexMutex> lk(sched.lock);
  if (sched.runq_size.load(std::memory_order_relaxed) > 0) {  // arrived meanwhile
    lk.unlock();
    startm(p, false);
    return;
  }
  pidle_put(p);
}

std::int64_t sysmon_tick(SysmonState& s, std::int64_t now) {
  if (sched.npidle.load(std::memory_order_relaxed) == sched.gomaxprocs) {
    s.delay = 0;  // every P idle: nothing to watch until one runs
    s.idle = 0;
    return kSysmonDeepSleep;
  }
  bool worked = false;
  // Poll the network if nobody has for a while (Go's sysmon, Lab 04).
  if (netpoll_has_waiters() && now - s.lastpoll >= kSysmonNetpollNs) {
    s.lastpoll = now;
    worked |= inject_glist(netpoll(false, 0)) > 0;
  }
  worked |= retake(s, now) > 0;
  s.idle = worked ? 0 : s.idle + 1;
  if (s.idle == 0 || s.delay == 0) {
    s.delay = kSysmonMinDelayNs;
  } else if (s.idle > kSysmonIdleRounds) {
    s.delay *= 2;
  }
  if (s.delay > kSysmonMaxDelayNs) s.delay = kSysmonMaxDelayNs;
  return s.delay;
}

}  // namespace gort::rt
