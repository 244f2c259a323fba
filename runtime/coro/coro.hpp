// Lab 02, task 4 — goroutines on one thread: an N:1 cooperative scheduler.
//
// The smallest complete use of Lab 02's pieces. A Scheduler owns coroutines,
// each with its own stack (from a StackPool) and Context. run() is the
// dispatcher: on the calling thread it takes the coroutine at the head of
// the run queue, switches to it, and when that coroutine switches back
// (because it yielded, finished or exited) puts it at the tail or frees it,
// until none is left. Every switch goes coroutine → dispatcher → next
// coroutine, the shape of Go's G → g0 → G' (Lab 03 builds the real thing,
// with many threads; it does not use this class).
//
// Cooperative means: a coroutine runs until it calls yield(), exit() or
// returns. Nothing preempts it, so a coroutine that loops forever without
// yielding starves every other one — exactly Go before 1.14's asynchronous
// preemption.
//
// Exceptions never cross a switch: a coroutine may throw and catch freely on
// its own stack, and an exception that escapes its function is caught at
// the bottom of that coroutine's stack, ends the coroutine, and is rethrown
// by run() once every coroutine has finished.
//
// Threads: a Scheduler belongs to one thread. spawn() may be called before
// run() or from its coroutines, on that thread; nothing here is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>

#include "ctx/context.hpp"
#include "ctx/stack.hpp"
#include "ctx/stack_pool.hpp"

namespace gort::coro {

/// Coroutine ids: 1, 2, 3 … in spawn order within a Scheduler; 0 means "none".
using Id = std::uint64_t;

class Scheduler;
void yield();
[[noreturn]] void exit();

/// One coroutine (internal to the scheduler; exposed so the lab can name it).
struct Coroutine {
  Id id = 0;                   ///< its id (1-based, spawn order)
  ctx::Context ctx;            ///< saved registers while not running
  ctx::Stack stack;            ///< its stack, from the scheduler's pool
  std::function<void()> fn;    ///< what it runs
  std::exception_ptr error;    ///< exception that escaped fn, if any
  bool finished = false;       ///< fn returned, threw, or exit() was called
  Scheduler* sched = nullptr;  ///< its scheduler
};

/// An N:1 round-robin scheduler of coroutines on the calling thread.
class Scheduler {
 public:
  /// Default usable bytes of each coroutine stack.
  static constexpr std::size_t kDefaultStackSize = 64 * 1024;

  /// A scheduler whose coroutines get stacks of at least @p stack_size bytes
  /// from a ctx::StackPool. With @p guarded_limit 0 the pool guards every
  /// stack the best way this machine can (ctx::best_stack_guards()); a
  /// non-zero @p guarded_limit asks for the older scheme with that limit:
  /// while fewer than @p guarded_limit coroutines are live their stacks have
  /// mmap'd guard pages, and later ones get unguarded stacks with
  /// kStackCanary in the word just below their lowest usable byte.
  /// Throws std::invalid_argument if stack_size < 4096.
  explicit Scheduler(std::size_t stack_size = kDefaultStackSize, std::size_t guarded_limit = 0);

  /// Frees the coroutines that never ran or never finished (their stacks are
  /// released without unwinding them). Must not be called from one of its
  /// own coroutines (std::terminate: the running stack would be freed).
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;             ///< not copyable
  Scheduler& operator=(const Scheduler&) = delete;  ///< not copyable

  /// Creates a coroutine running @p fn and appends it to the run queue; it
  /// first runs when run() reaches it. Returns its id. Callable before run()
  /// or from this scheduler's coroutines (same thread). Throws
  /// std::invalid_argument for an empty fn (and then creates nothing),
  /// std::bad_alloc if no stack.
  Id spawn(std::function<void()> fn);

  /// Runs coroutines round-robin, in exact FIFO order (spawn order, and a
  /// yielding coroutine goes to the back), on the calling thread, until all
  /// have finished. Then rethrows the first exception that escaped a
  /// coroutine, if any.
  ///
  /// Stack overflows are named, never silent: run() installs the overflow
  /// handler (ctx::install_overflow_handler) and, before each switch to a
  /// coroutine, tells it which stack runs (ctx::set_current_stack with the
  /// coroutine's id), so running into a guard page prints "fatal error:
  /// stack overflow in goroutine <id>"; after each switch back it checks the
  /// stack's canary (ctx::StackPool::canary_intact) and, if it is gone, prints
  /// a line containing "fatal error: stack overflow" and "goroutine <id>" and
  /// aborts.
  ///
  /// When run() returns or throws, its caller's exception state is as before:
  /// std::current_exception() and std::uncaught_exceptions() are unchanged,
  /// and every exception object a coroutine threw has been destroyed (or is
  /// the one being rethrown). A coroutine's last switch is therefore made
  /// outside any catch block.
  ///
  /// Throws std::logic_error, with a message containing "inside a coroutine",
  /// if called from a coroutine (no nesting) or while this scheduler is
  /// already running.
  void run();

  /// Coroutines spawned and not yet finished.
  std::size_t live() const noexcept { return live_; }

 private:
  friend void yield();
  friend void exit();
  static void coroutine_main(void* arg);
  void switch_to_dispatcher(Coroutine* c) noexcept;

  std::size_t stack_size_;
  ctx::StackPool pool_;
  ctx::Context dispatcher_;  // run()'s own context on the thread's stack
  std::deque<std::unique_ptr<Coroutine>> runq_;
  std::unique_ptr<Coroutine> current_;
  Id next_id_ = 1;
  std::size_t live_ = 0;
  std::exception_ptr first_error_;
  bool running_ = false;
};

/// Suspends the current coroutine and puts it at the back of the run queue;
/// returns when its turn comes again. Throws std::logic_error, with a message
/// containing "outside a coroutine", if the caller is not running inside a
/// coroutine.
void yield();

/// Ends the current coroutine now. It works by throwing an internal exception
/// that unwinds the coroutine's stack (destructors run), so a `catch (...)`
/// that does not rethrow would swallow it. Throws std::logic_error, with a
/// message containing "outside a coroutine", if the caller is not running
/// inside a coroutine.
[[noreturn]] void exit();

/// Id of the coroutine the caller runs in, or 0 outside any coroutine.
/// Never throws.
Id current_id() noexcept;

}  // namespace gort::coro
