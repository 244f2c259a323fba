// Lab 03 grader — task 2, the scheduler (sched.cpp).
//
// Exact orders on one P; invariants (each goroutine ran exactly once, sums
// conserved, nothing lost) on several Ps, where the interleaving is up to
// the OS. No test sleeps or measures time. Behaviour that ends the process
// (the deadlock report) is checked in a child process.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab03_util.hpp"

using lab03::str;

GRADED_TEST("sched: a readied goroutine runs next", 8, "Task 2: park and ready") {
  std::vector<char> order;
  gort::run(
      [&] {
        gort::Chan<int> c;
        gort::WaitGroup wg;
        wg.add(3);
        gort::go([&] {
          c.recv();  // parks: nobody has sent yet
          order.push_back('R');
          wg.done();
        });
        gort::yield();  // let R run and park
        gort::go([&] {
          order.push_back('A');
          wg.done();
        });
        gort::go([&] {
          order.push_back('B');
          wg.done();
        });
        c.send(1);  // readies R: it goes to runnext, ahead of A and B
        wg.wait();
      },
      {.procs = 1});
  std::string got(order.begin(), order.end());
  CHECK_MESSAGE(got == "RAB", "order was ", got,
                ", expected RAB: ready() must put the woken goroutine in runnext, so it runs "
                "before goroutines that were already queued");
}

GRADED_TEST("sched: the global queue is served every 61 ticks", 8,
            "Task 2: find_runnable and fairness") {
  // Two goroutines keep yielding, so the local queue is never empty; 129
  // goroutines sit on the global queue (overflow of 300 spawns). Only the
  // 1-in-61 global check can run them before the yielders give up.
  constexpr int kFill = 300;
  constexpr long kGiveUp = 100000;
  std::atomic<int> filled{0};
  long yields = 0;
  long yields_when_done = -1;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(2);
        for (int k = 0; k < 2; ++k) {
          gort::go([&] {
            while (filled.load() < kFill && yields < kGiveUp) {
              ++yields;
              gort::yield();
            }
            if (filled.load() == kFill && yields_when_done < 0) yields_when_done = yields;
            wg.done();
          });
        }
        for (int i = 0; i < kFill; ++i) {
          wg.add();
          gort::go([&] {
            filled.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 1});
  CHECK_MESSAGE(filled.load() == kFill, "only ", filled.load(), " of ", kFill, " goroutines ran");
  REQUIRE_MESSAGE(yields_when_done >= 0,
                  "goroutines on the global run queue were still waiting after two goroutines "
                  "yielded ",
                  kGiveUp,
                  " times: every 61st schedtick find_runnable_fast must take one G from the "
                  "global queue first, or a busy local queue starves it");
  // 129 global goroutines, one per 61 ticks: about 8000 ticks.
  CHECK_MESSAGE(yields_when_done <= 20000, "the global queue drained only after ", yields_when_done,
                " yields; with the 1-in-61 check it takes about 8000");
}

GRADED_TEST("sched: every goroutine runs exactly once on several Ps", 8,
            "Task 2: goroutines on several Ps") {
  constexpr int kSpawners = 200, kLeaves = 50, kN = kSpawners * kLeaves;
  auto ran = std::make_unique<std::atomic<int>[]>(kN);
  for (int i = 0; i < kN; ++i) ran[i] = 0;
  gort::debug::Stats st;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(kN);
        for (int s = 0; s < kSpawners; ++s) {
          gort::go([&, s] {
            for (int l = 0; l < kLeaves; ++l) {
              gort::go([&, i = s * kLeaves + l] {
                ran[i].fetch_add(1);
                if (i % 3 == 0) gort::yield();
                wg.done();
              });
              if (l % 7 == 0) gort::yield();
            }
          });
        }
        wg.wait();
      },
      {.procs = 4});
  st = gort::debug::stats();
  int never = 0, twice = 0, first_bad = -1;
  for (int i = 0; i < kN; ++i) {
    int r = ran[i].load();
    never += r == 0;
    twice += r > 1;
    if (r != 1 && first_bad < 0) first_bad = i;
  }
  CHECK_MESSAGE(never == 0, never, " goroutines never ran (first: #", first_bad, ")");
  CHECK_MESSAGE(twice == 0, twice, " goroutines ran more than once (first: #", first_bad,
                "): a G was taken from a queue twice");
  CHECK_MESSAGE(st.goroutines_created == kN + kSpawners + 1, "stats: ", st.goroutines_created,
                " goroutines created, expected ", kN + kSpawners + 1);
}

GRADED_TEST("sched: 100000 goroutines block and finish", 8, "Task 2: goroutines on several Ps") {
#if defined(GORT_TSAN)
  // TSan gives each goroutine a fiber whose creation clears ~768 KiB of
  // TSan's per-thread state (page faults included): 5000 took 13 s, near the
  // time limit on a loaded machine. Race detection needs no more than this.
  static constexpr long kN = 1000;
#else
  static constexpr long kN = 100000;
#endif
  long sum = 0;
  std::uint64_t live_blocked = 0;
  gort::run(
      [&] {
        gort::Chan<long> work;
        gort::Chan<long> results(64);
        gort::WaitGroup exited;  // so no goroutine is abandoned holding a channel
        exited.add(kN + 1);
        for (long i = 0; i < kN; ++i) {
          gort::go([work, results, &exited] {
            results.send(*work.recv() * 2);
            exited.done();
          });
        }
        // Let every goroutine reach its recv() and park.
        for (int k = 0; k < 4; ++k) gort::yield();
        live_blocked = gort::debug::stats().goroutines_live;
        gort::go([work, &exited] {
          for (long i = 1; i <= kN; ++i) work.send(i);
          exited.done();
        });
        for (long i = 0; i < kN; ++i) sum += *results.recv();
        exited.wait();
      },
      {.procs = 2});
  CHECK_MESSAGE(live_blocked >= static_cast<std::uint64_t>(kN), "stats().goroutines_live was ",
                live_blocked, " with ", kN,
                " goroutines blocked (expected at least that many live)");
  CHECK_MESSAGE(sum == kN * (kN + 1), "sum of results ", sum, ", expected ", kN * (kN + 1),
                ": some values were lost or duplicated");
}

GRADED_TEST("sched: run returns main's value and can run again", 6,
            "Task 2: starting and ending goroutines") {
  // The channel outlives the run: when main returns, the other P may still be
  // inside recv() on it, and only run() waits for every M to stop. The
  // goroutines refer to it by pointer because an abandoned goroutine's
  // captures are never destroyed (a captured handle would show up as a leak
  // in sanitizer builds).
  gort::Chan<int> never;
  int r1 = gort::run(
      [&never] {
        for (int i = 0; i < 10; ++i) gort::go([c = &never] { c->recv(); });
        gort::yield();
        return 42;
      },
      {.procs = 2});
  CHECK_MESSAGE(r1 == 42, "run returned ", r1,
                ", expected main's 42 — main returning ends the run even though 10 goroutines "
                "are still blocked");
  int r2 = gort::run(
      [] {
        gort::Chan<int> c(1);
        gort::go([c] { c.send(6); });
        return *c.recv() + 1;
      },
      {.procs = 1});
  CHECK_MESSAGE(r2 == 7, "a second run returned ", r2, ", expected 7");
  auto st = gort::debug::stats();
  CHECK_MESSAGE(st.goroutines_created == 2, "the second run created ", st.goroutines_created,
                " goroutines, expected 2 (main and one): state leaked from the first run?");
  gort::run([] {});
  CHECK_MESSAGE(gort::debug::stats().goroutines_live == 0, "a run whose main returns at once left ",
                gort::debug::stats().goroutines_live, " goroutines live");
}

GRADED_TEST("sched: a deadlock is reported with each goroutine's wait reason", 6,
            "Task 2: park and ready") {
  auto r = lab03::run_in_child([] {
    gort::run(
        [] {
          gort::Chan<int> a, b;
          std::atomic<std::uint64_t> sender{0};
          gort::go([b, &sender] {
            sender = gort::debug::goroutine_id();
            b.send(1);  // blocks forever: nobody receives from b
          });
          while (sender.load() == 0) gort::yield();
          std::printf("%llu\n", static_cast<unsigned long long>(sender.load()));
          std::fflush(stdout);
          a.recv();  // main blocks forever too
        },
        {.procs = 2});
  });
  CHECK_MESSAGE(r.exit_code == 2, "the deadlocked program ended with ", r.how(),
                ", expected exit code 2; stderr:\n", r.err);
  CHECK_MESSAGE(
      r.err.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos,
      "missing 'fatal error: all goroutines are asleep - deadlock!' in stderr:\n", r.err);
  CHECK_MESSAGE(r.err.find("goroutine 1 [chan receive]:") != std::string::npos,
                "the report must list 'goroutine 1 [chan receive]:' (main); stderr:\n", r.err);
  std::string sender =
      "goroutine " + std::string(r.out.substr(0, r.out.find('\n'))) + " [chan send]:";
  CHECK_MESSAGE(r.err.find(sender) != std::string::npos,
                "the report must list the blocked sender as '", sender, "'; stderr:\n", r.err);
}
