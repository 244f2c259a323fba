// gort — the public goroutine API of the finished runtime (Lab 03).
//
// This is the header programs include. It offers what Go's `go` statement,
// runtime.Gosched, time.Sleep, `chan T`, sync.WaitGroup and sync.Mutex offer,
// plus `select` (gort/select.hpp) and time.After/Timer/Ticker (gort/time.hpp):
//
//     int main() {
//       return gort::run([] {
//         gort::Chan<int> c;
//         gort::go([c] { c.send(42); });
//         std::printf("%d\n", *c.recv());
//       });
//     }
//
// How it fits together: gort::run() boots the G/M/P scheduler (Ps = logical
// processors, Ms = OS threads, Gs = goroutines; see runtime/rt/sched.hpp),
// runs the function it is given as goroutine 1 ("main"), and returns main's
// result as soon as main returns. Everything else in this header is only
// meaningful inside run(): called from a plain thread it throws
// std::logic_error saying so, instead of crashing.
//
// Main-exit semantics (as in Go): when main returns, goroutines still blocked
// are abandoned — their stacks are released *without unwinding*, so
// destructors of objects living on those stacks (closures and their
// captures included) do not run, so what they own leaks (LeakSanitizer
// reports it; capture by pointer what outlives main). run() waits only
// until every OS thread is back in the scheduler; a goroutine that computes
// forever without ever blocking or yielding therefore delays run()'s return
// (gort has no preemption until Lab 05).
//
// run() may be called many times in one process, one after another (not
// nested, not from two threads at once).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

#include "gort/chan.hpp"
#include "gort/debug.hpp"
#include "gort/select.hpp"
#include "gort/sync.hpp"
#include "gort/time.hpp"

namespace gort {

/// How to boot the runtime. Designated-initializer friendly:
/// `gort::run(main, {.procs = 1})`. Zero means "the default".
struct Config {
  /// Number of Ps (GOMAXPROCS), 1 to 1024. 0: the GORT_PROCS environment
  /// variable if set, else the number of hardware threads (at most 1024).
  int procs = 0;
  /// Usable stack bytes of each goroutine (rounded up to pages, committed
  /// lazily). 0: 64 KiB.
  std::size_t stack_size = 0;
  /// Most OS threads the run may use (its Ms and sysmon), at least 2; a
  /// run that needs more — goroutines blocked in gort::syscall hold one
  /// each — ends with "fatal error: thread exhaustion" (Go's SetMaxThreads).
  /// 0: the GORT_MAXTHREADS environment variable if set, else 10,000.
  int max_threads = 0;
  /// Path of a Chrome trace-event JSON file (Perfetto, chrome://tracing) to
  /// write this run's execution trace to when it ends (docs/TRACING.md).
  /// Each run overwrites it. nullptr: the GORT_TRACE environment variable if
  /// set (later runs of the process then write \<stem\>.2.json, .3, ...), else
  /// no trace.
  const char* trace = nullptr;
};

namespace detail {

/// Runs main(arg) as goroutine 1 on a fresh runtime; returns its result.
/// Throws std::logic_error if the runtime is already running.
int run_main(int (*main)(void* arg), void* arg, const Config& cfg);

/// Reserves a new goroutine and @p size bytes (aligned to @p align) of storage
/// for its closure; stores an opaque handle in *handle. Throws
/// std::logic_error outside gort::run, std::bad_alloc when out of memory.
void* go_reserve(std::size_t size, std::size_t align, void** handle);
/// Makes the reserved goroutine runnable; it will call entry(storage).
void go_commit(void* handle, void (*entry)(void* storage)) noexcept;
/// Gives back a reserved goroutine whose closure could not be constructed.
void go_abandon(void* handle) noexcept;

/// Throws the std::logic_error "gort::<what> called outside gort::run ...".
[[noreturn]] void throw_outside_run(const char* what);

}  // namespace detail

/// Boots the runtime, runs @p main_fn (returning void or something
/// convertible to int) as goroutine 1, and returns its result (0 for void)
/// once it returns. Call from a plain thread, never from inside run().
/// Throws std::logic_error if the runtime is already running,
/// std::invalid_argument (naming the value) for procs outside 0..1024,
/// std::bad_alloc or std::system_error if memory or a thread cannot be had;
/// a run that throws leaves nothing behind, and the next run() works. An
/// exception escaping main_fn is a goroutine panic: the process exits with
/// code 2.
template <class F>
int run(F main_fn, Config cfg = {}) {
  static_assert(std::is_invocable_v<F&>, "gort::run needs a function callable with no arguments");
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<R> || std::is_convertible_v<R, int>,
                "gort::run's main function must return void or int");
  return detail::run_main(
      [](void* p) -> int {
        F& f = *static_cast<F*>(p);
        if constexpr (std::is_void_v<R>) {
          f();
          return 0;
        } else {
          return static_cast<int>(f());
        }
      },
      &main_fn, cfg);
}

/// Starts a goroutine running f(args...). Like std::thread, f and args are
/// decay-copied (or moved) into the new goroutine, so f may be move-only.
/// Never blocks: the new goroutine is made runnable (it runs next on this P,
/// Go's runnext) and the caller continues. Throws std::logic_error outside
/// gort::run and whatever copying f/args throws. An exception escaping f is
/// a panic: "panic: <what()>", "goroutine N [running]", exit code 2.
template <class F, class... Args>
void go(F&& f, Args&&... args) {
  using Closure = std::tuple<std::decay_t<F>, std::decay_t<Args>...>;
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "gort::go(f, args...): f cannot be called with these arguments");
  void* handle = nullptr;
  void* mem = detail::go_reserve(sizeof(Closure), alignof(Closure), &handle);
  try {
    ::new (mem) Closure(std::forward<F>(f), std::forward<Args>(args)...);
  } catch (...) {
    detail::go_abandon(handle);
    throw;
  }
  detail::go_commit(handle, [](void* p) {
    Closure& c = *static_cast<Closure*>(p);
    std::apply([](auto& fn, auto&... a) { std::invoke(std::move(fn), std::move(a)...); }, c);
    c.~Closure();
  });
}

/// Lets other goroutines run (Go's runtime.Gosched): the caller goes to the
/// back of its P's run queue and continues later. Throws std::logic_error
/// outside gort::run.
void yield();

/// Parks the calling goroutine for at least @p d (no OS thread sleeps for
/// it: a timer readies the goroutine). d <= 0 behaves like yield(). A
/// duration too long for the clock (nanoseconds::max()) sleeps "forever":
/// the deadline is clamped, never wrapped into the past. Sleepers due at the
/// same time are woken in deadline order, ties in the order they went to
/// sleep. Throws std::logic_error outside gort::run.
void sleep_for(std::chrono::nanoseconds d);

/// Convenience overload for any duration type; durations beyond what
/// nanoseconds can hold (hours::max()) are clamped to nanoseconds::max().
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  // Compare in floating point: converting hours::max() to nanoseconds would
  // overflow. 9.2e18 ns (~292 years) is just under nanoseconds::max().
  if (std::chrono::duration<double, std::nano>(d).count() >= 9.2e18) {
    sleep_for(std::chrono::nanoseconds::max());
  } else {
    sleep_for(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
  }
}

// Later labs add: gort::net (Lab 04, netpoller-backed sockets, <gort/net.hpp>)
// and gort::syscall(f) (Lab 05, blocking calls that hand the P off,
// <gort/syscall.hpp>, included below).

}  // namespace gort

#include "gort/syscall.hpp"
