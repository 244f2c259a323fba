// Hooks that labs 04–06 fill in. The Lab 03 scheduler already calls them at
// the right places, so the later labs change behaviour without redesign.
//
// Each has a benign default that keeps the runtime correct on its own —
// Lab 01–03 tests never depend on a later lab: the netpoll hooks in the Lab 04
// starter (labs/04-netpoll/netpoll.cpp), steal_work in the Lab 06 starter
// (labs/06-work-stealing/steal.cpp), the syscall hooks in runtime/rt/
// syscall_stub.cpp until Lab 05 moves them.
//
// find_runnable calls them in Go's order: local → global → netpoll → steal.
#pragma once

#include <cstdint>

#include "rt/g.hpp"
#include "rt/p.hpp"

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

// ---- Lab 05: system calls -------------------------------------------------

/// Called by the goroutine before a possibly blocking system call: the P may
/// be handed to another M while the call runs. Default: nothing (the M keeps
/// its P, as if the call were fast).
void entersyscall() noexcept;

/// Called after the system call returns: re-acquires a P (the old one, an
/// idle one, or parks the goroutine on the global queue). Default: nothing.
void exitsyscall() noexcept;

/// Number of goroutines currently inside a system call (they can wake others,
/// so they rule out a deadlock). Default: 0.
int syscalls_in_progress() noexcept;

// ---- Lab 06: work stealing ------------------------------------------------

/// Called by a spinning M holding @p p whose own queues and the global queue
/// are empty: tries to take runnable Gs from other Ps. Returns one G to run
/// (others it took go to @p p's ring) or nullptr. The Lab 06 starter's
/// default takes ONE G from the head of a random other P's ring (never its
/// runnext), so work spreads over Ps before Lab 06 (which steals half, in
/// random coprime order, runnext last; rt/steal.hpp).
G* steal_work(P* p);

}  // namespace gort::rt
