// Hooks that labs 04–06 fill in. The Lab 03 scheduler already calls them at
// the right places, so the later labs change behaviour without redesign.
//
// Each has a benign default that keeps the runtime correct on its own —
// Lab 01–03 tests never depend on a later lab: the netpoll hooks in the Lab 04
// starter (labs/04-netpoll/netpoll.cpp), the system-call hooks in the Lab 05
// starter (labs/05-syscall-handoff/syscall.cpp), steal_work in the Lab 06
// starter (labs/06-work-stealing/steal.cpp).
//
// find_runnable calls them in Go's order: local → global → netpoll → steal.
#pragma once

#include <cstdint>

#include "rt/g.hpp"
#include "rt/p.hpp"
#include "rt/sysmon.hpp"

namespace gort::rt {

// ---- Lab 04: the network poller -------------------------------------------

/// Polls for I/O readiness. With @p block, waits until something is ready,
/// @p until_ns (monotonic, INT64_MAX: no limit) passes, or netpoll_break()
/// is called. Returns the goroutines made runnable, chained through
/// G::schedlink, already in state runnable (nullptr if none). Any M, with or
/// without a P. Default: nothing is ever ready.
G* netpoll(bool block, std::int64_t until_ns);

/// True if some goroutine waits for I/O (so "all goroutines asleep" is not
/// a deadlock, and find_runnable should poll). Default: false.
bool netpoll_has_waiters() noexcept;

/// Interrupts a netpoll(block = true) in progress. Default: nothing.
void netpoll_break() noexcept;

/// Runtime teardown: forgets every goroutine parked on a descriptor (they
/// belong to the finished run) and the waiter count. Default: nothing.
void netpoll_reset() noexcept;

// ---- Lab 05: system calls (labs/05-syscall-handoff/syscall.cpp) ----------
//
// The starter keeps the P for every call (a blocking call stalls its P, as
// before Lab 05) and its sysmon_tick asks for the deep sleep, so Labs 01-04
// work on it unchanged. See rt/sysmon.hpp for the constants and the provided
// parts; the handout for the states.

/// Called by the running goroutine (gort::syscall) before a call that may
/// block: G running → syscall, P running → syscall, the M lets go of its P
/// but remembers it (m->oldp), and the P's syscalltick is bumped. No
/// hand-off: sysmon retakes the P if the call lasts. Counts Stats::syscalls
/// (bump(p->n_syscalls)). Never blocks. Default (starter): nothing — the M keeps its P.
void entersyscall() noexcept;

/// Called by the goroutine (on its own stack) after the call returned:
/// takes back the old P if sysmon did not retake it (fast path, counted in
/// Stats::syscall_fast_exits: bump(p->n_syscall_fast_exits)), else an idle P, else (slow path, on
/// g0) puts the goroutine on the global queue and parks the M on the idle-M list for reuse. Returns
/// with the goroutine running on an M holding a P. Default: nothing.
void exitsyscall() noexcept;

/// Like entersyscall for a call known to block long (gort::syscall_block):
/// hands the P off at once (handoffp), without waiting for sysmon. Default:
/// nothing (keeps the P).
void entersyscall_block() noexcept;

/// Gives @p p (held by nobody, status not idle) to an M: an idle or new one
/// if it has work (its queues, the global queue) or if no M is spinning or
/// idle to find some; otherwise puts it on the idle-P list. Counts
/// Stats::handoffs. Any thread (a goroutine entering a call, sysmon); takes
/// sched.lock; may start a thread (fatal error past the thread limit).
void handoffp(P* p);

/// Number of goroutines currently inside a system call, i.e. in
/// GStatus::syscall (they can wake others, so they rule out a deadlock).
/// Any thread; may take allg_lock (never call it holding allg_lock). Not on
/// the hot path: the deadlock check, teardown, tests. Default: 0.
int syscalls_in_progress() noexcept;

/// One round of sysmon's policy, on the sysmon thread (no M, no P), at
/// monotonic time @p now: retake Ps in a call for a full round (when they
/// have work, or no M is spinning or idle, or after kSyscallGraceNs), poll
/// the network if sysmon has not for kSysmonNetpollNs while goroutines wait
/// on it, and request_preempt for a P whose goroutine has run for
/// kForcePreemptNs. Returns how long to sleep before the next round: 20 µs
/// while rounds find work, doubling after 50 idle rounds up to 10 ms, or
/// kSysmonDeepSleep when every P is idle. Default: kSysmonDeepSleep.
std::int64_t sysmon_tick(SysmonState& s, std::int64_t now);

// ---- Lab 06: work stealing ------------------------------------------------

/// Called by a spinning M holding @p p whose own queues and the global queue
/// are empty: tries to take runnable Gs from other Ps. Returns one G to run
/// (others it took go to @p p's ring) or nullptr. The Lab 06 starter's
/// default takes ONE G from the head of a random other P's ring (never its
/// runnext), so work spreads over Ps before Lab 06 (which steals half, in
/// random coprime order, runnext last; rt/steal.hpp).
G* steal_work(P* p);

}  // namespace gort::rt
