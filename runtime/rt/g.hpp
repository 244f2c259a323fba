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
// G is kept small (about 130 bytes): a million blocked goroutines cost their
// G plus the stack pages they touched.
#pragma once

#include <atomic>
#include <cstdint>

#include "ctx/context.hpp"
#include "gort/debug.hpp"
#include "ctx/stack.hpp"

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

}  // namespace gort::rt
