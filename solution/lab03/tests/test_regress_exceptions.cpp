// Regression tests (solution only): C++ exception state belongs to the
// goroutine, not to the thread it happens to run on.
//
// The C++ runtime keeps, per thread, the stack of exceptions being handled
// (what std::current_exception() and `throw;` see) and the count of
// exceptions in flight (std::uncaught_exceptions()). A goroutine or a Lab 02
// coroutine that yields or parks inside a catch block, or in a destructor
// run by unwinding, must find its own state when it resumes, and everyone
// else must meanwhile see theirs: ctx::switch_context carries that state
// with each context. Results are recorded where they happen and checked
// after the run (doctest assertions stay on the test's own thread).
#include <atomic>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "coro/coro.hpp"
#include "gort/gort.hpp"

namespace {

// What() of the exception currently being handled, "" if none.
std::string current_what() {
  std::exception_ptr e = std::current_exception();
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "(not a std::exception)";
  }
}

// What one goroutine or coroutine saw inside its catch block.
struct Seen {
  std::string what;        // e.what() after resuming
  std::string current;     // std::current_exception() after resuming
  std::string rethrown;    // what `throw;` rethrew after resuming
  int uncaught = -1;       // std::uncaught_exceptions() inside the catch block
  int in_dtor = -1;        // std::uncaught_exceptions() in a destructor run by unwinding
  int in_dtor_after = -1;  // the same, after switching away and back in that destructor
};

// Throws @p name; in the destructor run by the unwinding and then in the
// catch block, calls @p suspend (a yield or a park) and records what the
// exception state looks like afterwards.
template <class Suspend>
void throw_and_suspend(const char* name, Seen& seen, Suspend suspend) {
  struct SuspendInUnwind {
    Seen& seen;
    Suspend& suspend;
    ~SuspendInUnwind() {
      seen.in_dtor = std::uncaught_exceptions();
      suspend();
      seen.in_dtor_after = std::uncaught_exceptions();
    }
  };
  try {
    SuspendInUnwind guard{seen, suspend};
    throw std::runtime_error(name);
  } catch (const std::runtime_error& e) {
    suspend();
    seen.what = e.what();
    seen.current = current_what();
    seen.uncaught = std::uncaught_exceptions();
    try {
      throw;
    } catch (const std::runtime_error& again) {
      seen.rethrown = again.what();
    }
  }
}

void check_seen(const Seen& s, const char* name) {
  INFO("exception ", std::string(name));
  CHECK(s.what == name);
  CHECK(s.current == name);
  CHECK(s.rethrown == name);
  CHECK(s.uncaught == 0);
  CHECK(s.in_dtor == 1);
  CHECK(s.in_dtor_after == 1);
}

// What a bystander saw while others were suspended mid-exception.
struct Bystander {
  int checks = 0;
  int saw_current = 0;   // times std::current_exception() was not null
  int saw_uncaught = 0;  // times std::uncaught_exceptions() was not 0
  void look() {
    ++checks;
    saw_current += std::current_exception() != nullptr;
    saw_uncaught += std::uncaught_exceptions() != 0;
  }
};

}  // namespace

TEST_CASE("regress exceptions: goroutines that yield and park inside catch keep their own") {
  Seen one, two;
  Bystander main_g;
  std::string after_run = "unset";
  int uncaught_after_run = -1;
  gort::run(
      [&] {
        gort::Chan<int> wake1, wake2;
        gort::WaitGroup wg;
        wg.add(2);
        gort::go([&] {
          throw_and_suspend("one", one, [&] {
            gort::yield();
            wake1.recv();  // park, still mid-exception
            gort::yield();
          });
          wg.done();
        });
        gort::go([&] {
          throw_and_suspend("two", two, [&] {
            gort::yield();
            wake2.recv();
          });
          wg.done();
        });
        // One P: while main runs, both others are suspended mid-exception.
        for (int round = 0; round < 2; ++round) {
          gort::yield();
          main_g.look();
          wake1.send(1);
          main_g.look();
          gort::yield();
          main_g.look();
          wake2.send(2);
          main_g.look();
        }
        wg.wait();
        main_g.look();
      },
      {.procs = 1});
  after_run = current_what();
  uncaught_after_run = std::uncaught_exceptions();
  check_seen(one, "one");
  check_seen(two, "two");
  CHECK(main_g.checks == 9);
  CHECK_MESSAGE(main_g.saw_current == 0, "main saw another goroutine's caught exception");
  CHECK_MESSAGE(main_g.saw_uncaught == 0, "main saw another goroutine's exception in flight");
  CHECK(after_run == "");
  CHECK(uncaught_after_run == 0);
}

TEST_CASE("regress exceptions: across Ps every goroutine keeps its own, counts never go negative") {
  constexpr int kG = 16, kRounds = 100;
  std::atomic<int> wrong{0}, negative{0}, done{0};
  gort::run(
      [&] {
        gort::WaitGroup wg;
        for (int g = 0; g < kG; ++g) {
          wg.add();
          gort::go([&, g] {
            for (int r = 0; r < kRounds; ++r) {
              std::string name = std::to_string(g) + "/" + std::to_string(r);
              Seen s;
              throw_and_suspend(name.c_str(), s, [] { gort::yield(); });
              bool ok = s.what == name && s.current == name && s.rethrown == name &&
                        s.uncaught == 0 && s.in_dtor == 1 && s.in_dtor_after == 1;
              wrong += !ok;
              negative += std::uncaught_exceptions() < 0 || s.uncaught < 0 || s.in_dtor < 0 ||
                          s.in_dtor_after < 0;
              if (std::current_exception() != nullptr) ++wrong;
              gort::yield();
            }
            done.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 4});
  CHECK(done.load() == kG);
  CHECK_MESSAGE(wrong.load() == 0, wrong.load(), " of ", kG * kRounds, " rounds saw foreign state");
  CHECK(negative.load() == 0);
  CHECK(std::current_exception() == nullptr);
  CHECK(std::uncaught_exceptions() == 0);
}

TEST_CASE("regress exceptions: a Lab 02 coroutine that yields inside catch keeps its own") {
  Seen a, b;
  Bystander c;
  {
    gort::coro::Scheduler s;
    s.spawn([&] { throw_and_suspend("a", a, [] { gort::coro::yield(); }); });
    s.spawn([&] {
      throw_and_suspend("b", b, [] {
        gort::coro::yield();
        gort::coro::yield();
      });
    });
    s.spawn([&] {
      for (int i = 0; i < 3; ++i) {
        c.look();  // a and b are suspended mid-exception (exact FIFO order)
        gort::coro::yield();
      }
    });
    s.run();
  }
  check_seen(a, "a");
  check_seen(b, "b");
  CHECK(c.checks == 3);
  CHECK_MESSAGE(c.saw_current == 0, "a coroutine saw another one's caught exception");
  CHECK_MESSAGE(c.saw_uncaught == 0, "a coroutine saw another one's exception in flight");
  CHECK(std::current_exception() == nullptr);
  CHECK(std::uncaught_exceptions() == 0);
}

TEST_CASE("regress exceptions: run() called inside a catch block leaves the caller's exception") {
  Seen a;
  Bystander other;
  std::string before, after;
  try {
    throw std::runtime_error("caller");
  } catch (const std::runtime_error&) {
    before = current_what();
    gort::coro::Scheduler s;
    s.spawn([&] { throw_and_suspend("a", a, [] { gort::coro::yield(); }); });
    s.spawn([&] {
      other.look();  // the caller's exception is not this coroutine's either
      gort::coro::yield();
      other.look();
    });
    s.run();
    after = current_what();
  }
  check_seen(a, "a");
  CHECK(other.checks == 2);
  CHECK(other.saw_current == 0);
  CHECK(before == "caller");
  CHECK(after == "caller");
  CHECK(std::current_exception() == nullptr);
}
