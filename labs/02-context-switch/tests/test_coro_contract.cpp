// Lab 02 grader: the N:1 scheduler's contract beyond round-robin (task 4) —
// misuse and bad arguments are refused with the documented exceptions, a
// coroutine's stack overflow is named (guard page and canary), and run()
// leaves no exception state behind in its caller.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

#include "coro/coro.hpp"
#include "ctx/stack.hpp"
#include "gort_grader.hpp"
#include "lab02_test_util.hpp"

namespace coro = gort::coro;

namespace {
// What a call threw: the message of a std::logic_error, or a description.
template <class F>
std::string logic_error_of(F&& fn) {
  try {
    fn();
  } catch (const std::logic_error& e) {
    return e.what();
  } catch (...) {
    return "(threw something other than std::logic_error)";
  }
  return "(did not throw)";
}

volatile std::uint64_t g_never = ~0ull;  // the recursion below never reaches it

std::uint64_t __attribute__((noinline)) bottomless(std::uint64_t n) {
  volatile unsigned char frame[512];
  frame[0] = static_cast<unsigned char>(n);
  frame[511] = static_cast<unsigned char>(n);
  if (n == g_never) return 0;
  return bottomless(n + 1) + frame[0] + frame[511];
}

// Overwrites the canary at the bottom of the calling coroutine's stack, as a
// stack overrun would: it scans down, page by page, from its own frame to
// the page-aligned word holding kStackCanary (the stack's lowest word).
bool smash_own_canary(std::size_t stack_size) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  volatile char here = 0;
  auto p = reinterpret_cast<std::uintptr_t>(&here) & ~(page - 1);
  for (std::size_t i = 0; i < stack_size / page; ++i, p -= page) {
    // A pool stack keeps its canary in the word just below its lowest
    // (page-aligned) byte; stack_alloc(size, false) in the lowest word.
    for (auto* w : {reinterpret_cast<volatile std::uint64_t*>(p),
                    reinterpret_cast<volatile std::uint64_t*>(p) - 1}) {
      if (*w == gort::ctx::kStackCanary) {
        *w = 0;
        return true;
      }
    }
  }
  return false;
}

// Counts live objects, to see that an exception object is destroyed.
struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  ~Counted() { --alive; }
};
}  // namespace

GRADED_TEST("coro: yield() and exit() outside a coroutine throw logic_error saying so", 1,
            "Task 4: the N:1 scheduler") {
  std::string y = logic_error_of([] { coro::yield(); });
  CHECK_MESSAGE(y.find("outside a coroutine") != std::string::npos,
                "yield() outside a coroutine must throw std::logic_error whose message contains "
                "\"outside a coroutine\"; got: "
                    << y);
  std::string x = logic_error_of([] { coro::exit(); });
  CHECK_MESSAGE(x.find("outside a coroutine") != std::string::npos,
                "exit() outside a coroutine must throw std::logic_error whose message contains "
                "\"outside a coroutine\"; got: "
                    << x);
  CHECK(coro::current_id() == 0);
}

GRADED_TEST("coro: run() inside a coroutine throws logic_error saying so", 1,
            "Task 4: the N:1 scheduler") {
  coro::Scheduler outer;
  std::string nested = "(the coroutine did not run)";
  std::string again = "(the coroutine did not run)";
  outer.spawn([&] {
    coro::Scheduler inner;
    inner.spawn([] {});
    nested = logic_error_of([&] { inner.run(); });
    again = logic_error_of([&] { outer.run(); });
  });
  // Before any coroutine runs: a Task 1 or 2 bug is named, not a crash.
  const std::string preflight = lab02::context_problem();
  REQUIRE_MESSAGE(preflight.empty(), preflight);
  outer.run();
  CHECK_MESSAGE(nested.find("inside a coroutine") != std::string::npos,
                "Scheduler::run() inside a coroutine must throw std::logic_error whose message "
                "contains \"inside a coroutine\"; got: "
                    << nested);
  CHECK_MESSAGE(again.find("inside a coroutine") != std::string::npos,
                "the running scheduler's own run(), called from one of its coroutines: " << again);
}

GRADED_TEST("coro: Scheduler and spawn reject bad arguments", 2, "Task 4: the N:1 scheduler") {
  CHECK_THROWS_AS(coro::Scheduler(4095), std::invalid_argument);
  CHECK_THROWS_AS(coro::Scheduler(0), std::invalid_argument);
  CHECK_NOTHROW(coro::Scheduler(4096));
  coro::Scheduler s;
  CHECK_THROWS_AS(s.spawn(std::function<void()>{}), std::invalid_argument);
  CHECK_MESSAGE(s.live() == 0, "a rejected spawn must not leave a coroutine behind");
  int ran = 0;
  s.spawn([&ran] { ++ran; });
  // Before any coroutine runs: a Task 1 or 2 bug is named, not a crash.
  const std::string preflight = lab02::context_problem();
  REQUIRE_MESSAGE(preflight.empty(), preflight);
  s.run();
  CHECK(ran == 1);
}

GRADED_TEST("coro: a stack overflow in a coroutine is reported with its id", 4,
            "Task 4: the N:1 scheduler") {
  if (kLab02Sanitized) {
    MESSAGE(
        "sanitizer build: this child-process test is skipped (ASan/TSan own the SIGSEGV "
        "handler and the stack shadow)");
    return;
  }
  auto r = lab02::run_in_child([] {
    coro::Scheduler sched;
    sched.spawn([] {});                  // 1
    sched.spawn([] { bottomless(0); });  // 2 runs off the bottom of its (guarded) stack
    sched.run();
    std::fprintf(stderr, "run() returned\n");
  });
  INFO("child: " << r.describe() << "; its output:\n" << r.err);
  CHECK(r.signaled);
  CHECK_MESSAGE(r.err.find("fatal error: stack overflow in goroutine 2") != std::string::npos,
                "run() must install the overflow handler and tell it, before each switch, whose "
                "stack is running (ctx::install_overflow_handler, ctx::set_current_stack)");
}

GRADED_TEST("coro: run() reports a coroutine whose stack canary was overwritten", 2,
            "Task 4: the N:1 scheduler") {
  if (kLab02Sanitized) {
    MESSAGE("sanitizer build: this child-process test is skipped");
    return;
  }
  auto r = lab02::run_in_child([] {
    // Only one guarded stack: coroutine 2 gets an unguarded one with a canary.
    coro::Scheduler sched(coro::Scheduler::kDefaultStackSize, 1);
    sched.spawn([] { coro::yield(); });  // 1 keeps the guarded stack
    sched.spawn([] {                     // 2
      if (!smash_own_canary(coro::Scheduler::kDefaultStackSize)) {
        std::fprintf(stderr, "grader: no canary at the bottom of coroutine 2's stack\n");
      }
    });
    sched.run();
    std::fprintf(stderr, "run() returned although coroutine 2 overwrote its stack canary\n");
  });
  INFO("child: " << r.describe() << "; its output:\n" << r.err);
  CHECK(r.signaled);
  CHECK_MESSAGE((r.err.find("fatal error: stack overflow") != std::string::npos &&
                 r.err.find("goroutine 2") != std::string::npos),
                "when a coroutine switches back, run() must check its stack's canary "
                "(ctx::StackPool::canary_intact) and die with \"fatal error: stack overflow ... "
                "goroutine <id>\"");
}

GRADED_TEST("coro: run() leaves no exception state behind in its caller", 3,
            "Task 4: the N:1 scheduler") {
  bool caught = false;
  {
    coro::Scheduler s;
    s.spawn([] {  // throws and catches on its own stack
      try {
        throw Counted{};
      } catch (const Counted&) {
      }
    });
    s.spawn([] {  // lets one escape: run() rethrows it
      coro::yield();
      throw Counted{};
    });
    s.spawn([] { coro::exit(); });
    // Before any coroutine runs: a Task 1 or 2 bug is named, not a crash.
    const std::string preflight = lab02::context_problem();
    REQUIRE_MESSAGE(preflight.empty(), preflight);
    try {
      s.run();
    } catch (const Counted&) {
      caught = true;
    }
  }
  CHECK_MESSAGE(caught, "run() must rethrow the exception that escaped a coroutine");
  CHECK_MESSAGE(std::current_exception() == nullptr,
                "after run() returned, std::current_exception() in its caller is not null: a "
                "coroutine's last switch was made inside a catch block (end the catch first, "
                "then switch)");
  CHECK(std::uncaught_exceptions() == 0);
  CHECK_MESSAGE(Counted::alive == 0,
                Counted::alive << " exception object(s) thrown in coroutines were never "
                                  "destroyed: a catch block that switched away never ended");
}
