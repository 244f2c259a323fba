// Lab 06 grader — stealing in the running scheduler: work spawned on one P
// reaches every P in batches, a runnext G of a busy P is not stranded, and
// bursts of work submitted while Ms give up never leave a G behind, with the
// spinning bounded. Invariants only (counts conserved, every P reached, the
// stats' bounds): no sleeps, no clocks. A stealing bug shows as a HANG
// (work stranded) or a failed count.
#include <atomic>
#include <cstdint>
#include <vector>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab06_util.hpp"

using lab06::cpu_relax;

GRADED_TEST("runtime: work spawned on one P runs on every P and is stolen in batches", 9,
            "Task 2: steal_work") {
  constexpr int kProcs = 4;
  constexpr int kGs = 64;
  std::atomic<unsigned> seen{0};
  gort::debug::Stats st;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(kGs);
        // Every goroutine records its P, then holds it (spinning, never
        // calling into the runtime) until all Ps have been seen: the only
        // way for the Gs queued on P0 to reach P1..P3 is to be stolen.
        for (int i = 0; i < kGs; ++i) {
          gort::go([&] {
            seen.fetch_or(1u << gort::debug::current_p());
            while (seen.load() != (1u << kProcs) - 1) cpu_relax();
            wg.done();
          });
        }
        wg.wait();
        st = gort::debug::stats();
      },
      {.procs = kProcs});
  CHECK_MESSAGE(seen.load() == (1u << kProcs) - 1, "Ps seen: mask ", seen.load());
  CHECK_MESSAGE(st.steals >= static_cast<std::uint64_t>(kProcs - 1), "stats().steals = ", st.steals,
                ": Ps 1..3 got their work by stealing");
  CHECK_MESSAGE(st.steals > st.steal_batches, "stats(): ", st.steals, " Gs stolen in ",
                st.steal_batches,
                " steals: every steal took one G. A thief takes HALF of "
                "the victim's ring (",
                kGs, " were queued on P0), so it need not come back");
}

GRADED_TEST("runtime: a G left in runnext of a busy P is stolen", 8,
            "Task 1: runq_grab and runq_steal") {
  std::atomic<bool> flag{false};
  gort::debug::Stats st;
  gort::run(
      [&] {
        // The child goes into P0's runnext; main never lets P0 go. Only an
        // M on P1 that takes runnext (after giving P0 its moment) runs it.
        gort::go([&] { flag.store(true); });
        while (!flag.load()) cpu_relax();
        st = gort::debug::stats();
      },
      {.procs = 2});
  CHECK(flag.load());
  CHECK_MESSAGE(st.steals >= 1, "stats().steals = ", st.steals);
}

GRADED_TEST("runtime: bursts of work are never stranded and spinning stays bounded", 9,
            "Task 3: the spinning limit") {
  constexpr int kProcs = 8;
  constexpr int kRounds = 300;
  constexpr int kBurst = 40;
  std::atomic<long> ran{0};
  std::atomic<long> nested{0};
  gort::debug::Stats st;
  gort::run(
      [&] {
        for (int r = 0; r < kRounds; ++r) {
          gort::WaitGroup wg;
          wg.add(kBurst);
          for (int i = 0; i < kBurst; ++i) {
            gort::go([&, i] {
              // Some of the burst makes more work from wherever it runs.
              if (i % 8 == 0) {
                gort::WaitGroup inner;
                inner.add(2);
                for (int k = 0; k < 2; ++k) {
                  gort::go([&] {
                    nested.fetch_add(1);
                    inner.done();
                  });
                }
                inner.wait();
              }
              ran.fetch_add(1);
              wg.done();
            });
          }
          wg.wait();  // a G stranded in a queue nobody looks at hangs here
        }
        st = gort::debug::stats();
      },
      {.procs = kProcs});
  CHECK_MESSAGE(ran.load() == long{kRounds} * kBurst, "ran ", ran.load(), " of ",
                long{kRounds} * kBurst);
  CHECK_MESSAGE(nested.load() == long{kRounds} * (kBurst / 8) * 2, "nested ran ", nested.load());
  CHECK_MESSAGE(st.spinning_peak >= 1, "no M ever spun in ", kRounds, " bursts");
  CHECK_MESSAGE(st.spinning_peak <= static_cast<std::uint64_t>(kProcs / 2),
                "stats().spinning_peak = ", st.spinning_peak, " with ", kProcs,
                " Ps: at most half the busy Ps' worth of Ms may spin");
  CHECK_MESSAGE(st.spinner_wakeups > 0, "stats().spinner_wakeups = 0 in ", kRounds,
                " bursts: a spinning M that finds work and was the last spinner must have "
                "another M woken (reset_spinning returns true), or a burst stays on few Ps");
}
