// Lab 02, task 4 (solution) — the N:1 cooperative scheduler.
//
// run() is the dispatcher, running on the thread's own stack in the context
// `dispatcher_`. Each turn it pops the head of the run queue, makes it
// current, tells the overflow handler which stack is now live, and switches
// to it. Control comes back only through switch_to_dispatcher(), called by
// yield() (the coroutine goes to the tail) or by coroutine_main when the
// coroutine has finished (its stack goes back to the pool). Every switch
// therefore goes coroutine → dispatcher → coroutine, like Go's G → g0 → G':
// the decision "who runs next" is always made on the dispatcher's stack,
// never on the stack of a coroutine that might be about to die.
//
// Invariants: a coroutine is in exactly one place — the run queue, current_,
// or gone; current_ is non-null exactly while a coroutine runs; t_sched is
// the scheduler whose run() is active on this thread.
//
// After every switch back, the coroutine's stack canary is checked (it
// matters for the unguarded stacks a StackPool hands out beyond its guarded
// limit): a stack overrun is reported as a fatal stack overflow.
#include "coro/coro.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace gort::coro {
namespace {
thread_local Scheduler* t_sched = nullptr;
thread_local Coroutine* t_current = nullptr;

// Thrown by exit(); caught at the bottom of the coroutine's stack.
struct CoroutineExit {};

[[noreturn]] void fatal(const char* msg, Id id) {
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "fatal error: %s in goroutine %llu\n", msg,
                        static_cast<unsigned long long>(id));
  ssize_t w = ::write(2, buf, static_cast<std::size_t>(n));
  (void)w;
  std::abort();
}
}  // namespace

Scheduler::Scheduler(std::size_t stack_size, std::size_t guarded_limit)
    : stack_size_(stack_size),
      pool_(stack_size < 4096 ? 4096 : stack_size, guarded_limit, 4096,
            guarded_limit != 0 ? ctx::StackGuards::mapped_then_canary : ctx::best_stack_guards()) {
  if (stack_size < 4096) {
    throw std::invalid_argument("coro::Scheduler: stack_size must be at least 4096 bytes");
  }
}

Scheduler::~Scheduler() {
  if (t_sched == this && t_current != nullptr) {
    fatal("coro::Scheduler destroyed by one of its own coroutines", t_current->id);
  }
  for (auto& c : runq_) {
    ctx::release_context(c->ctx);
    pool_.release(c->stack);
  }
}

Id Scheduler::spawn(std::function<void()> fn) {
  if (!fn) throw std::invalid_argument("coro::Scheduler::spawn: empty function");
  auto c = std::make_unique<Coroutine>();
  c->stack = pool_.acquire();
  try {
    c->id = next_id_;
    c->fn = std::move(fn);
    c->sched = this;
    ctx::make_context(c->ctx, c->stack.lo, c->stack.size, &Scheduler::coroutine_main, c.get());
    runq_.push_back(std::move(c));
  } catch (...) {
    if (c) pool_.release(c->stack);
    throw;
  }
  ++next_id_;
  ++live_;
  return next_id_ - 1;
}

void Scheduler::run() {
  if (t_current != nullptr) {
    throw std::logic_error(
        "coro::Scheduler::run() called from inside a coroutine: schedulers do not nest; "
        "spawn() the work on the running scheduler instead");
  }
  if (running_) throw std::logic_error("coro::Scheduler::run(): this scheduler is already running");
  ctx::install_overflow_handler();
  running_ = true;
  Scheduler* saved = t_sched;
  t_sched = this;
  while (!runq_.empty()) {
    current_ = std::move(runq_.front());
    runq_.pop_front();
    Coroutine* c = current_.get();
    t_current = c;
    ctx::set_current_stack(&c->stack, c->id);
    ctx::switch_context(dispatcher_, c->ctx);
    ctx::set_current_stack(nullptr, 0);
    t_current = nullptr;
    if (!ctx::StackPool::canary_intact(c->stack)) {
      fatal("stack overflow (canary overwritten at the bottom of the stack)", c->id);
    }
    if (c->finished) {
      if (c->error && !first_error_) first_error_ = c->error;
      ctx::release_context(c->ctx);
      pool_.release(c->stack);
      current_.reset();
      --live_;
    } else {
      runq_.push_back(std::move(current_));
    }
  }
  t_sched = saved;
  running_ = false;
  if (first_error_) {
    std::exception_ptr e = first_error_;
    first_error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void Scheduler::switch_to_dispatcher(Coroutine* c) noexcept {
  ctx::switch_context(c->ctx, dispatcher_);
}

void Scheduler::coroutine_main(void* arg) {
  auto* c = static_cast<Coroutine*>(arg);
  try {
    c->fn();
  } catch (const CoroutineExit&) {
    // exit(): the stack is unwound, the coroutine ends normally.
  } catch (...) {
    c->error = std::current_exception();
  }
  c->fn = nullptr;  // destroy the closure on its own stack's turn, not later
  c->finished = true;
  c->sched->switch_to_dispatcher(c);
  fatal("a finished coroutine was resumed", c->id);
}

void yield() {
  Coroutine* c = t_current;
  if (c == nullptr) {
    throw std::logic_error(
        "gort::coro::yield() called outside a coroutine: only code running inside "
        "Scheduler::run() (a function passed to spawn) can yield");
  }
  c->sched->switch_to_dispatcher(c);
}

void exit() {
  if (t_current == nullptr) {
    throw std::logic_error(
        "gort::coro::exit() called outside a coroutine: only code running inside "
        "Scheduler::run() (a function passed to spawn) can exit");
  }
  throw CoroutineExit{};
}

Id current_id() noexcept { return t_current != nullptr ? t_current->id : 0; }

}  // namespace gort::coro
