// gort::after, gort::tick, gort::Timer, gort::Ticker — Go's time.After,
// time.Tick, time.Timer and time.Ticker for goroutines (provided runtime;
// runtime/rt/timers.cpp).
//
// A timer delivers the current std::chrono::steady_clock::time_point on a
// channel when it expires; nothing sleeps: the scheduler's timer heap (the
// same one behind gort::sleep_for) fires it from whichever M looks at the
// timers next, and the send readies a goroutine waiting on the channel.
//
//     gort::Timer t(std::chrono::milliseconds(50));
//     gort::select(gort::recv(results, [](auto r) { use(r); }),
//                  gort::recv(t.c(), [] { std::puts("timed out"); }));
//     t.stop();
//
//     gort::Ticker tk(std::chrono::milliseconds(100));
//     for (int i = 0; i < 3; ++i) tk.c().recv();  // three ticks, 100 ms apart
//     tk.stop();
//
// Channel semantics are Go 1.23's (the default since Go 1.23; Go's
// GODEBUG=asynctimerchan=1 restores the older ones):
//   * A timer's channel holds at most one value: a Timer sends once per
//     expiry, a Ticker drops a tick while the previous one is unread (so a
//     slow reader sees ticks no faster than it reads, and none piles up).
//   * After stop() or reset() returns, no value from before the call can be
//     received: a value sent but not yet received is discarded. So there is
//     no need for Go's pre-1.23 idiom "if !t.Stop() { <-t.C }" (which would
//     block here, as it does in Go 1.23).
//   * stop() and reset() return true if the timer was still active — it had
//     not expired, or it had expired but its value was not yet received (that
//     value is discarded) — and false if it had been stopped or its value
//     was already received.
// One difference from Go 1.23: Chan::size() of a timer channel can be 1 (a
// value waiting to be received); Go reports len 0 for timer channels.
//
// Handles: Timer and Ticker are handles like Chan — copies refer to the same
// timer (Go's *time.Timer). Dropping every handle does not stop an armed
// timer: it still fires once (a Ticker keeps ticking until stop()), as before
// Go 1.23; stop it if it may be left armed.
//
// Every function here must run inside gort::run (std::logic_error otherwise):
// a timer lives in the running runtime's heap. Timers still armed when
// gort::run returns are dropped without firing. Deadlines are never early:
// a timer of duration d fires at the earliest d after it was armed (later
// under load), and the time_point it sends is read when it fires.
#pragma once

#include <chrono>
#include <cstdint>

#include "gort/chan.hpp"

namespace gort {

/// The clock of every timer (CLOCK_MONOTONIC: the runtime's clock).
using TimerClock = std::chrono::steady_clock;

namespace detail {
struct TimerCore;  // runtime/rt/timers.cpp

/// Converts any duration to nanoseconds, clamping what does not fit
/// (hours::max()) to nanoseconds::max() ("never").
template <class Rep, class Period>
std::chrono::nanoseconds clamp_ns(std::chrono::duration<Rep, Period> d) {
  if (std::chrono::duration<double, std::nano>(d).count() >= 9.2e18) {
    return std::chrono::nanoseconds::max();
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d);
}

/// Makes a timer whose channel gets the time after @p d, then every
/// @p period (0: once). Throws std::logic_error outside gort::run.
TimerCore* timer_make(std::chrono::nanoseconds d, std::chrono::nanoseconds period,
                      const Chan<TimerClock::time_point>& ch);
void timer_retain(TimerCore* t) noexcept;
void timer_release(TimerCore* t) noexcept;
/// Disarms; true if it was active (see the header comment). Drains ch.
bool timer_stop(TimerCore* t);
/// Re-arms after @p d with @p period (0 keeps one-shot); returns what stop would.
bool timer_reset(TimerCore* t, std::chrono::nanoseconds d, std::chrono::nanoseconds period);
/// Panics (Go's words) unless @p d > 0: "non-positive interval for <who>".
void check_interval(std::chrono::nanoseconds d, const char* who);
}  // namespace detail

/// A one-shot timer (Go's time.Timer, made by time.NewTimer): sends the
/// current time on c() once, @p d after it is armed. A copyable handle.
class Timer {
 public:
  /// Arms a timer that fires after @p d (d <= 0: at once — at the next
  /// scheduling point). Throws std::logic_error outside gort::run,
  /// std::bad_alloc.
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> d)
      : ch_(1), core_(detail::timer_make(detail::clamp_ns(d), {}, ch_)) {}
  /// Another handle to the same timer.
  Timer(const Timer& o) noexcept : ch_(o.ch_), core_(o.core_) { detail::timer_retain(core_); }
  /// Makes this handle refer to @p o's timer.
  Timer& operator=(const Timer& o) noexcept {
    detail::timer_retain(o.core_);
    detail::timer_release(core_);
    ch_ = o.ch_;
    core_ = o.core_;
    return *this;
  }
  /// Drops this handle (an armed timer keeps running; see the top of this header).
  ~Timer() { detail::timer_release(core_); }

  /// The channel the expiry time is sent on (capacity 1; see the header).
  const Chan<TimerClock::time_point>& c() const noexcept { return ch_; }

  /// Prevents the timer from firing (Go's Timer.Stop). Returns true if it
  /// was active — not yet expired, or expired with its value not yet
  /// received (the value is discarded: nothing from before stop() can be
  /// received after it); false if already stopped or its value was received.
  /// Never blocks. Throws std::logic_error outside gort::run.
  bool stop() { return detail::timer_stop(core_); }

  /// Re-arms the timer to fire @p d from now (Go's Timer.Reset), discarding
  /// any unreceived value first; returns what stop() would have. Never
  /// blocks. Throws std::logic_error outside gort::run.
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return detail::timer_reset(core_, detail::clamp_ns(d), {});
  }

 private:
  Chan<TimerClock::time_point> ch_;
  detail::TimerCore* core_;
};

/// A periodic timer (Go's time.Ticker, made by time.NewTicker): sends the
/// current time on c() every period, dropping ticks a slow reader misses.
/// A copyable handle; it ticks until stop().
class Ticker {
 public:
  /// Starts ticking every @p d. Panics (exit 2) with Go's "non-positive
  /// interval for NewTicker" unless d > 0. Throws std::logic_error outside
  /// gort::run, std::bad_alloc.
  template <class Rep, class Period>
  explicit Ticker(std::chrono::duration<Rep, Period> d)
      : ch_(1), core_(make(detail::clamp_ns(d))) {}
  /// Another handle to the same ticker.
  Ticker(const Ticker& o) noexcept : ch_(o.ch_), core_(o.core_) { detail::timer_retain(core_); }
  /// Makes this handle refer to @p o's ticker.
  Ticker& operator=(const Ticker& o) noexcept {
    detail::timer_retain(o.core_);
    detail::timer_release(core_);
    ch_ = o.ch_;
    core_ = o.core_;
    return *this;
  }
  /// Drops this handle (an armed ticker keeps running; see the top of this header).
  ~Ticker() { detail::timer_release(core_); }

  /// The channel the ticks are sent on (capacity 1).
  const Chan<TimerClock::time_point>& c() const noexcept { return ch_; }

  /// Stops the ticks (Go's Ticker.Stop); an unreceived tick is discarded.
  /// Does not close the channel. Never blocks. Throws std::logic_error
  /// outside gort::run.
  void stop() { detail::timer_stop(core_); }

  /// Stops and restarts the ticker with period @p d, the next tick @p d
  /// from now (Go's Ticker.Reset; also restarts a stopped ticker). Panics
  /// (exit 2) with "non-positive interval for Ticker.Reset" unless d > 0.
  /// Throws std::logic_error outside gort::run.
  template <class Rep, class Period>
  void reset(std::chrono::duration<Rep, Period> d) {
    auto ns = detail::clamp_ns(d);
    detail::check_interval(ns, "Ticker.Reset");
    detail::timer_reset(core_, ns, ns);
  }

 private:
  detail::TimerCore* make(std::chrono::nanoseconds d) {
    detail::check_interval(d, "NewTicker");
    return detail::timer_make(d, d, ch_);
  }
  Chan<TimerClock::time_point> ch_;
  detail::TimerCore* core_;
};

/// Go's time.After: a channel that receives the current time once, @p d
/// from now. The timer cannot be stopped (use Timer for that); it is freed
/// once it has fired. Throws std::logic_error outside gort::run.
template <class Rep, class Period>
Chan<TimerClock::time_point> after(std::chrono::duration<Rep, Period> d) {
  return Timer(d).c();
}

/// Go's time.Tick: the channel of a Ticker of period @p d that is never
/// stopped. Unlike Go, d <= 0 panics ("non-positive interval for NewTicker")
/// instead of returning a nil channel. Throws std::logic_error outside
/// gort::run.
template <class Rep, class Period>
Chan<TimerClock::time_point> tick(std::chrono::duration<Rep, Period> d) {
  return Ticker(d).c();
}

}  // namespace gort
