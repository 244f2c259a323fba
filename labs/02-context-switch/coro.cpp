// Lab 02, task 4 — the N:1 cooperative scheduler (see runtime/coro/coro.hpp).
//
// run() is the dispatcher on the thread's own stack (context dispatcher_).
// Each turn: pop the head of runq_ into current_, remember it in a
// thread_local so yield()/exit()/current_id() can find it, tell the overflow
// handler which stack is live (ctx::set_current_stack), switch to it; when
// control comes back, check the stack's canary (ctx::StackPool::canary_intact),
// then either free the finished coroutine (release_context, pool_.release) or
// append it to runq_. Every switch goes coroutine → dispatcher → coroutine.
//
// coroutine_main runs at the bottom of each coroutine's stack: call fn inside
// a try block (exceptions must never cross a switch), record what escaped,
// mark the coroutine finished and switch to the dispatcher for the last time.
// exit() can throw a private exception type that coroutine_main catches.
#include <stdexcept>

#include "coro/coro.hpp"
#include "not_implemented.hpp"

namespace gort::coro {

Scheduler::Scheduler(std::size_t stack_size, std::size_t guarded_limit)
    : stack_size_(stack_size),
      pool_(stack_size < 4096 ? 4096 : stack_size, guarded_limit, 4096,
            guarded_limit != 0 ? ctx::StackGuards::mapped_then_canary : ctx::best_stack_guards()) {
  // TODO(lab 02, task 4): reject stack sizes below 4096 (std::invalid_argument).
}

Scheduler::~Scheduler() {
  // TODO(lab 02, task 4): release the contexts and stacks of coroutines still queued.
}

Id Scheduler::spawn(std::function<void()> fn) {
  // TODO(lab 02, task 4): allocate a Coroutine and its stack, make_context it with
  // coroutine_main, queue it, return its id.
  (void)fn;
  throw gort::NotImplemented("lab 02 task 4: Scheduler::spawn");
}

void Scheduler::run() {
  // TODO(lab 02, task 4): the dispatcher loop described above.
  throw gort::NotImplemented("lab 02 task 4: Scheduler::run");
}

void Scheduler::switch_to_dispatcher(Coroutine* c) noexcept {
  // TODO(lab 02, task 4): switch from c's context to the dispatcher's.
  (void)c;
}

void Scheduler::coroutine_main(void* arg) {
  // TODO(lab 02, task 4): run the coroutine's function, catch what escapes,
  // mark it finished, switch to the dispatcher for the last time.
  (void)arg;
}

void yield() {
  // TODO(lab 02, task 4): switch the current coroutine back to the dispatcher
  // (std::logic_error when called outside a coroutine).
  throw gort::NotImplemented("lab 02 task 4: yield");
}

void exit() {
  // TODO(lab 02, task 4): end the current coroutine by unwinding its stack
  // (std::logic_error when called outside a coroutine).
  throw gort::NotImplemented("lab 02 task 4: exit");
}

Id current_id() noexcept {
  // TODO(lab 02, task 4): the current coroutine's id, 0 outside any coroutine.
  return 0;
}

}  // namespace gort::coro
