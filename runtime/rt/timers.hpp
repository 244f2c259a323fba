// Timers: how gort::sleep_for parks a goroutine without putting a thread to
// sleep, and how the channel timers of gort/time.hpp (Timer, Ticker, after,
// tick) fire (provided with Lab 03; runtime/rt/timers.cpp).
//
// A sleeping goroutine is parked with its wake-up time in G::when and sits
// in one global 4-ary min-heap ordered by (when, sequence); a channel timer
// sits in the same heap as a reference-counted TimerCore whose firing sends
// the time on its channel (timers.cpp says how stop/reset stay Go 1.23-exact).
// The scheduler fires them: find_runnable calls check_timers() (a single
// atomic load when nothing is due), and an M with nothing to do sleeps on
// its Note only until the earliest timer, never longer. A timer armed
// earlier than every other one wakes an idle M (wake_for_timer, Go's
// wakeNetPoller), so an M that went to sleep before the timer existed does
// not oversleep it. (Go keeps one 4-ary heap per P since 1.14; one heap
// under one lock is simpler and enough for a few Ps — Lab 06 may split it.)
//
// Order. Sleepers that are due together are readied in deadline order, and
// sleepers with the same deadline in the order they were armed (the order
// their park() reached the heap): check_timers takes them off the heap in
// that order under the heap's lock and appends them in that order to the
// tail of its P's ring, so on one P they also *run* in that order. With
// several Ps, sleepers readied by different check_timers calls (or stolen by
// an idle P) run in parallel, and may finish in any order. A goroutine woken
// by a channel timer's send is appended to the ring the same way.
#pragma once

#include <cstdint>

#include "rt/g.hpp"
#include "rt/p.hpp"

namespace gort::rt {

/// The latest deadline a timer can have: "never" (sleep_for clamps to it
/// instead of overflowing). INT64_MAX itself means "no timer" (next_timer),
/// so a goroutine sleeping forever still counts as a pending timer, as in Go
/// (no deadlock is reported while one sleeps).
inline constexpr std::int64_t kTimerForever = INT64_MAX - 1;

/// Parks the calling goroutine until nanotime() >= @p when (<= kTimerForever).
/// Goroutines only.
void timer_sleep_until(std::int64_t when);

/// Readies every sleeper whose time has come onto the tail of @p p's local
/// ring, in (deadline, arming order) — see "Order" above — and fires the
/// channel timers that are due (a goroutine they hand the time to joins the
/// ring the same way). Returns how many goroutines it readied. Called by
/// @p p's owner (g0, or a goroutine in switch_from: then a timer whose
/// channel is locked is left on the heap, due, for the next call).
int check_timers(P* p);

/// The earliest pending deadline, or INT64_MAX if no goroutine sleeps and
/// no channel timer is armed.
std::int64_t next_timer() noexcept;

/// Drops every pending timer (runtime teardown): channel timers are
/// disarmed without firing.
void timers_reset() noexcept;

}  // namespace gort::rt
