// Lab 02 grader: the N:1 cooperative scheduler (task 4).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "coro/coro.hpp"
#include "gort_grader.hpp"
#include "lab02_test_util.hpp"

namespace coro = gort::coro;

namespace {
struct Tagged {
  coro::Id owner;
};
}  // namespace

GRADED_TEST("coro: 10000 coroutines run round-robin in exact order", 8,
            "Task 4: the N:1 scheduler") {
#if defined(GORT_TSAN)
  // TSan gives every fiber a thread slot and allows 8128 in all.
  constexpr int kN = 2000;
  MESSAGE("ThreadSanitizer build: 2000 coroutines instead of 10000 (TSan's fiber limit is 8128)");
#else
  constexpr int kN = 10000;
#endif
  constexpr int kRounds = 3;
  coro::Scheduler sched;
  std::vector<coro::Id> trace;
  trace.reserve(kN * kRounds);
  std::vector<coro::Id> ids;
  int id_mismatch = 0;
  for (int i = 0; i < kN; ++i) {
    ids.push_back(sched.spawn([&trace, &id_mismatch, &ids, i] {
      for (int r = 0; r < kRounds; ++r) {
        if (coro::current_id() != ids[static_cast<std::size_t>(i)]) ++id_mismatch;
        trace.push_back(coro::current_id());
        coro::yield();
      }
    }));
  }
  CHECK(sched.live() == static_cast<std::size_t>(kN));
  // Before any coroutine runs: a Task 1 or 2 bug is named, not a crash.
  const std::string preflight = lab02::context_problem();
  REQUIRE_MESSAGE(preflight.empty(), preflight);
  sched.run();
  CHECK(sched.live() == 0);
  CHECK_MESSAGE(id_mismatch == 0,
                "current_id() differed from the id spawn() returned " << id_mismatch << " times");
  REQUIRE(trace.size() == static_cast<std::size_t>(kN * kRounds));
  for (int r = 0; r < kRounds; ++r) {
    for (int i = 0; i < kN; ++i) {
      coro::Id got = trace[static_cast<std::size_t>(r * kN + i)];
      if (got != ids[static_cast<std::size_t>(i)]) {
        FAIL("step " << r * kN + i << " (round " << r << ", position " << i << ") ran coroutine "
                     << got << ", expected " << ids[static_cast<std::size_t>(i)]
                     << ": round-robin is FIFO, spawn order first, a yielder goes to the back");
      }
    }
  }
  CHECK(coro::current_id() == 0);
}

GRADED_TEST("coro: exceptions thrown and caught inside coroutines never cross a switch", 5,
            "Task 4: the N:1 scheduler") {
  coro::Scheduler sched;
  std::vector<std::string> log;
  // Two coroutines interleave: each throws across frames of its own stack and
  // across yields inside the try block, and must catch its own exception.
  for (int k = 0; k < 2; ++k) {
    sched.spawn([&log] {
      const coro::Id me = coro::current_id();
      for (int round = 0; round < 3; ++round) {
        try {
          coro::yield();
          auto thrower = [&] { throw Tagged{me}; };
          thrower();
        } catch (const Tagged& t) {
          log.push_back(t.owner == me ? "ok" : "caught another coroutine's exception");
        }
        coro::yield();
      }
    });
  }
  // One that throws something it catches only after several yields in nested frames.
  sched.spawn([&log] {
    try {
      [&] {
        for (int i = 0; i < 3; ++i) coro::yield();
        throw std::runtime_error("deep");
      }();
    } catch (const std::runtime_error& e) {
      log.push_back(std::string(e.what()) == "deep" ? "ok" : "wrong exception");
    }
  });
  // Before any coroutine runs: a Task 1 or 2 bug is named, not a crash.
  const std::string preflight = lab02::context_problem();
  REQUIRE_MESSAGE(preflight.empty(), preflight);
  sched.run();
  REQUIRE(log.size() == 7u);
  for (const auto& entry : log) CHECK(entry == "ok");

  // An exception that escapes a coroutine ends only that coroutine; run()
  // rethrows it after the others have finished.
  coro::Scheduler s2;
  int finished = 0;
  s2.spawn([] {
    coro::yield();
    throw std::runtime_error("escaped");
  });
  s2.spawn([&finished] {
    for (int i = 0; i < 5; ++i) coro::yield();
    ++finished;
  });
  CHECK_THROWS_WITH_AS(s2.run(), "escaped", std::runtime_error);
  CHECK_MESSAGE(finished == 1, "the other coroutine must still run to its end");
  CHECK(s2.live() == 0);
}

GRADED_TEST("coro: a returning function or exit() ends the coroutine cleanly", 4,
            "Task 4: the N:1 scheduler") {
  coro::Scheduler sched;
  int returned = 0, after_exit = 0, destroyed = 0;
  struct Guard {
    int* n;
    ~Guard() { ++*n; }
  };
  for (int i = 0; i < 100; ++i) {
    sched.spawn([&returned] { ++returned; });
  }
  sched.spawn([&] {
    Guard g{&destroyed};
    coro::yield();
    coro::exit();
    ++after_exit;  // never reached
  });
  coro::Id late = 0;
  sched.spawn([&] { late = sched.spawn([&returned] { ++returned; }); });
  // Before any coroutine runs: a Task 1 or 2 bug is named, not a crash.
  const std::string preflight = lab02::context_problem();
  REQUIRE_MESSAGE(preflight.empty(), preflight);
  sched.run();
  CHECK(returned == 101);
  CHECK_MESSAGE(after_exit == 0, "code after exit() ran");
  CHECK_MESSAGE(destroyed == 1, "exit() must unwind the coroutine's stack (destructors run)");
  CHECK(late == 103);
  CHECK(sched.live() == 0);
  // A scheduler can run again after it drained.
  int again = 0;
  sched.spawn([&again] { ++again; });
  sched.run();
  CHECK(again == 1);
}
