// Lab 03 grader — task 1, run queues (runq.cpp).
//
// On one P the scheduler is deterministic: no other thread takes work, no
// preemption, so the order in which goroutines run is an exact function of
// the queue discipline. These tests predict it — FIFO ring, runnext for the
// newest goroutine, overflow of half the ring to the global queue — and
// compare. Every goroutine appends to a plain vector: on one P only one of
// them runs at a time.
#include <atomic>
#include <string>
#include <vector>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab03_util.hpp"

using lab03::str;

GRADED_TEST("runq: one P runs new goroutines in FIFO order after runnext", 4,
            "Task 1: the local run queue") {
  std::vector<int> order;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        for (int i = 0; i < 10; ++i) {
          wg.add();
          gort::go([&, i] {
            order.push_back(i);
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 1});
  // Each go() puts the new G in runnext and moves the previous runnext to the
  // ring's tail: when main blocks, the newest (9) runs first, then the ring
  // in FIFO order.
  std::vector<int> want{9, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  std::string why =
      str(order) == "[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]"
          ? "the ring returned the newest G first: runq_get must pop the head (FIFO)"
      : str(order) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
          ? "runnext was ignored: runq_put(p, gp, true) must put gp in runnext, and runq_get "
            "must take runnext first"
          : "runnext holds the newest goroutine; the ring is FIFO: oldest first";
  CHECK_MESSAGE(str(order) == str(want), "goroutines ran in order ", str(order), ", expected ",
                str(want), ": ", why);
}

GRADED_TEST("runq: yield sends a goroutine behind the queued ones", 3, "Task 2: park and ready") {
  std::vector<int> order;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        for (int id = 0; id < 3; ++id) {
          wg.add();
          gort::go([&, id] {
            for (int round = 0; round < 3; ++round) {
              order.push_back(id);
              gort::yield();
            }
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 1});
  // 2 starts (runnext), then round-robin: a yielding goroutine goes to the
  // back, behind everything already queued.
  std::vector<int> want{2, 0, 1, 2, 0, 1, 2, 0, 1};
  bool first_wrong = !order.empty() && order[0] != 2;
  // A yielder that went to runnext instead of the tail runs again before a
  // goroutine that was already queued: some id repeats while another waits.
  bool repeats = false;
  for (std::size_t i = 0; i + 1 < order.size() && i + 1 < want.size(); ++i) {
    repeats |= order[i] == order[i + 1];
  }
  repeats |= order.size() == want.size() && order[order.size() - 1] == order[order.size() - 2] &&
             order[order.size() - 2] == order[order.size() - 3];
  std::string why =
      first_wrong ? "the newest goroutine (2) did not start first: runnext was ignored — "
                    "runq_put(p, gp, true) and runq_get's runnext (Task 1)"
      : repeats   ? "a yielding goroutine ran again before one that was already queued: "
                    "gosched_m must put it at the TAIL of the ring (runq_put(p, gp, false)), "
                    "not in runnext"
                  : "round-robin: gosched_m puts the caller behind the queued goroutines, and "
                    "the ring is FIFO";
  CHECK_MESSAGE(str(order) == str(want), "yielding goroutines ran in order ", str(order),
                ", expected ", str(want), ": ", why);
}

GRADED_TEST("runq: a full local queue moves half of it plus one to the global queue", 3,
            "Task 1: overflow and the global queue") {
  constexpr int kN = 300;
  std::vector<int> ran(kN, 0);
  std::vector<std::uint64_t> ids(kN, 0);
  gort::debug::Snapshot snap;
  std::uint64_t main_id = 0;
  gort::run(
      [&] {
        main_id = gort::debug::goroutine_id();
        gort::WaitGroup wg;
        for (int i = 0; i < kN; ++i) {
          wg.add();
          gort::go([&, i] {
            ++ran[i];
            ids[i] = gort::debug::goroutine_id();
            wg.done();
          });
        }
        // Nothing has run yet (one P, main never blocked): look at the queues.
        snap = gort::debug::snapshot();
        wg.wait();
      },
      {.procs = 1});
  int never = 0, twice = 0;
  for (int i = 0; i < kN; ++i) {
    never += ran[i] == 0;
    twice += ran[i] > 1;
  }
  CHECK_MESSAGE(never == 0, never, " of ", kN, " goroutines never ran (lost in an overflow?)");
  CHECK_MESSAGE(twice == 0, twice, " goroutines ran more than once");
  REQUIRE_MESSAGE(snap.procs.size() == 1, "snapshot should show exactly one P");
  // Spawning 300 on one P: 256 fill the ring; the 258th go() pushes the 257th
  // out of runnext into a full ring, so the oldest 128 plus that one (129)
  // move to the global queue; the rest stay local.
  std::vector<std::uint64_t> want_global;
  for (int i = 0; i < 128; ++i) want_global.push_back(ids[i]);
  want_global.push_back(ids[256]);
  CHECK_MESSAGE(snap.global_runq.size() == 129, "global queue held ", snap.global_runq.size(),
                " goroutines after 300 go() calls on one P, expected 129 (half the 256-slot ring "
                "plus the goroutine being added)");
  CHECK_MESSAGE(str(snap.global_runq) == str(want_global), "global queue order ",
                str(snap.global_runq),
                "; expected the 128 oldest then the one being added: ", str(want_global));
  CHECK_MESSAGE(snap.procs[0].runq_len == 170, "local ring held ", snap.procs[0].runq_len,
                " goroutines, expected 170 (128 left after the overflow + 42 added later)");
  CHECK_MESSAGE(snap.procs[0].runnext == ids[kN - 1], "runnext held goroutine ",
                snap.procs[0].runnext, ", expected the newest one (", ids[kN - 1], ")");
  (void)main_id;
}
