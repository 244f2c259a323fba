// Lab 03 — M: an OS thread that runs goroutines.
//
// Each M has a g0: the scheduler's own context, running on the thread's
// original stack. Goroutines never switch to each other directly in the
// teaching runtime: a goroutine that blocks, yields or exits switches to its
// M's g0 (Go's mcall), and g0 — now safely off the goroutine's stack — does
// the bookkeeping the goroutine asked for (after_switch), finds the next G
// and switches to it (Go's gogo). That is what lets park() release a lock
// *after* the parked goroutine's registers are saved: nobody can resume a G
// whose context is still being written.
//
// An M without work parks on its Note in the idle-M list (stopm); startm()
// hands it a P through nextp and wakes the Note.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "ctx/context.hpp"
#include "os/note.hpp"
#include "os/os_thread.hpp"

namespace gort::rt {

struct G;
struct P;

/// What a goroutine asks its g0 to do after switching to it: called on g0
/// with the G that just stopped running; returns a G to run at once, or
/// nullptr to look for work (schedule).
using AfterSwitch = G* (*)(struct M* m, G* gp);

/// An OS thread of the runtime.
struct M {
  int id = 0;                     ///< index in sched.allm (m0 = the thread that called run)
  pid_t tid = 0;                  ///< kernel thread id
  os::Thread thread;              ///< not joinable for m0
  ctx::Context g0;                ///< the scheduler context on the thread's own stack
  G* curg = nullptr;              ///< the G it runs, null while on g0
  P* p = nullptr;                 ///< the P it holds
  P* nextp = nullptr;             ///< P handed over by startm() before waking it
  M* schedlink = nullptr;         ///< next M on the idle list
  os::Note park;                  ///< what it sleeps on when idle
  bool spinning = false;          ///< looking for work (counted in sched.nmspinning)
  std::atomic<bool> idle{false};  ///< on the idle list (for dumps)
  std::uint32_t rand_state = 0;   ///< fast random numbers for stealing

  // Direct hand-off (switch_from): what the G that switched straight to
  // another G asked for; the resumed G runs it first (finish_switch).
  AfterSwitch pending = nullptr;
  G* pending_g = nullptr;

  // The request a goroutine leaves for g0 (mcall).
  AfterSwitch after = nullptr;
  bool (*wait_unlock)(G* gp, void* arg) = nullptr;  ///< park(): runs on g0
  void* wait_arg = nullptr;

  // Lab 05: the P this M let go of in entersyscall, to take back on exit.
  P* oldp = nullptr;
};

}  // namespace gort::rt
