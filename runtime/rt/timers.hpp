// Timers: how gort::sleep_for parks a goroutine without putting a thread to
// sleep (provided with Lab 03; runtime/rt/timers.cpp).
//
// A sleeping goroutine is parked with its wake-up time in G::when and sits
// in one global min-heap ordered by (when, sequence). The scheduler fires it:
// find_runnable calls check_timers() (a single atomic load when nothing is
// due), and an M with nothing to do sleeps on its Note only until the
// earliest timer, never longer. (Go keeps one 4-ary heap per P since 1.14;
// one heap under one lock is simpler and enough for a few Ps — Lab 06 may
// split it.)
#pragma once

#include <cstdint>

#include "rt/g.hpp"
#include "rt/p.hpp"

namespace gort::rt {

/// Parks the calling goroutine until nanotime() >= @p when. Goroutines only.
void timer_sleep_until(std::int64_t when);

/// Readies, in deadline order, every sleeper whose time has come, onto
/// @p p's local queue. Returns how many. Called on g0 of @p p's owner.
int check_timers(P* p);

/// The earliest pending deadline, or INT64_MAX if no goroutine sleeps.
std::int64_t next_timer() noexcept;

/// Drops every pending timer (runtime teardown).
void timers_reset() noexcept;

}  // namespace gort::rt
