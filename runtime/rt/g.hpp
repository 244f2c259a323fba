// Lab 03 — G: one goroutine, as the scheduler sees it.
//
// A G is a suspended (or running) computation: an execution context (saved
// stack pointer, Lab 02) on its own stack, plus the scheduler's bookkeeping.
// Its status follows Go's state machine (runtime2.go):
//
//     idle ──► dead ──► runnable ──► running ──► dead ──► (reused) runnable …
//                          ▲            │
//                          │  ready()   ▼  park()
//                          └──────── waiting
//
//   * runnable: on exactly one run queue (a P's ring, a P's runnext, or the
//     global queue) — never on two, never running. schedlink chains it on
//     the global queue and on free lists.
//   * running: an M executes it; m points at that M.
//   * waiting: parked; whoever will wake it (a channel wait queue, a timer,
//     a WaitGroup) holds the only pointer that may ready() it.
//   * dead: finished; it sits on a P's free list with its stack, waiting to be
//     reused by the next go() — Gs are never freed while the runtime runs.
//
// The scheduler's transitions (sched.cpp: execute, park_m, ready, gosched_m,
// new_proc, goexit_m) go through cas_status(gp, from, to) (Go's
// casgstatus): it moves the status with one compare-and-swap and, if the G
// was not in `from`, stops the program with a fatal error naming the
// transition and the status it really had — so a double ready() or a ready()
// of a G still on its stack is reported where it happens instead of
// corrupting a stack later.
//
// G is kept small (about 130 bytes): a million blocked goroutines cost their
// G plus the stack pages they touched.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>

#include "ctx/context.hpp"
#include "ctx/stack.hpp"
#include "gort/debug.hpp"
#include "rt/trace.hpp"

namespace gort::rt {

struct M;
struct P;

/// A goroutine.
struct G {
  ctx::Context ctx;                            ///< saved registers/stack pointer while not running
  ctx::Stack stack;                            ///< its stack (kept when the G is dead, for reuse)
  std::uint64_t id = 0;                        ///< goroutine id (1 = main); new id on each reuse
  std::atomic<GStatus> status{GStatus::idle};  ///< see the state machine above
  WaitReason wait_reason = WaitReason::none;   ///< why it is waiting
  bool heap_closure = false;    ///< closure boxed on the heap (too big for the stack top)
  bool is_main = false;         ///< goroutine 1: its return ends gort::run
  std::uint32_t box_align = 0;  ///< alignment of the heap closure box
  G* schedlink = nullptr;       ///< next G on the global run queue or a free list
  M* m = nullptr;               ///< the M running it (while running)
  void (*entry)(void* closure) = nullptr;  ///< what go() asked it to run
  void* closure = nullptr;                 ///< entry's argument (stack top or heap box)
  std::int64_t when = 0;                   ///< wake-up time (ns, monotonic) while sleeping
  void* param = nullptr;                   ///< scratch for whoever parks it (e.g. a sync waiter)
};

/// Prints "fatal error: <msg>" and every goroutine; exits with code 2 (proc.cpp).
[[noreturn]] void fatal(const char* msg) noexcept;

/// The fatal error of a failed cas_status: names the goroutine, the
/// transition asked for and the status it really had.
[[noreturn, gnu::cold, gnu::noinline]] inline void bad_status_transition(const G* gp, GStatus seen,
                                                                         GStatus from,
                                                                         GStatus to) noexcept {
  char msg[160];
  std::snprintf(msg, sizeof msg, "casgstatus: goroutine %llu: bad transition %s -> %s: it is %s",
                static_cast<unsigned long long>(gp->id), to_string(from), to_string(to),
                to_string(seen));
  fatal(msg);
}

/// Moves @p gp from status @p from to @p to with one compare-and-swap (Go's
/// casgstatus). If gp was not in @p from — a ready() of a G that is not
/// waiting, an execute() of a G that is not runnable — it does not return:
/// fatal error "casgstatus: goroutine N: bad transition waiting -> runnable:
/// it is running". Any thread.
inline void cas_status(G* gp, GStatus from, GStatus to) noexcept {
  trace::status(gp, from, to);  // one untaken branch unless tracing
  GStatus seen = from;
  if (!gp->status.compare_exchange_strong(seen, to, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) [[unlikely]] {
    bad_status_transition(gp, seen, from, to);
  }
}

/// cas_status for a transition only the caller can make at that moment —
/// the M running @p gp (running → waiting / runnable / dead), or the one that
/// just took it, exclusively, off a run queue or free list (runnable →
/// running, dead → runnable): nobody else writes the status of such a G
/// (ready() only CASes waiting → runnable, so it fails on it either way). A
/// load, a check and a release store instead of a locked compare-and-swap;
/// the same fatal error if gp was not in @p from. Used by the optimized
/// solution's hot paths; cas_status is the one every lab uses.
inline void set_status_owned(G* gp, GStatus from, GStatus to) noexcept {
  trace::status(gp, from, to);  // as in cas_status: the trace sees every transition
  GStatus seen = gp->status.load(std::memory_order_relaxed);
  if (seen != from) [[unlikely]]
    bad_status_transition(gp, seen, from, to);
  gp->status.store(to, std::memory_order_release);
}

/// Test probe, null in normal runs: when set, mcall and switch_from call it
/// with the running G just before that G's context is saved — the G is still
/// on its own stack, so nothing it parks on may be visible to other Ms yet.
/// Graded tests use it to hold a goroutine inside that window on purpose
/// (labs/03-scheduler/tests). Set it only while no goroutine runs.
inline std::atomic<void (*)(G* gp)> switch_out_probe{nullptr};

}  // namespace gort::rt
