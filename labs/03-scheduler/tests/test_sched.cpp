// Lab 03 grader — task 2, the scheduler (sched.cpp).
//
// Exact orders on one P; invariants (each goroutine ran exactly once, sums
// conserved, nothing lost) on several Ps, where the interleaving is up to
// the OS. No test sleeps or measures time. Behaviour that ends the process
// (the deadlock report, fatal errors) is checked in a child process.
// No test here uses a channel (Task 3): WaitGroup and Mutex are provided and
// park/ready through your sched.cpp, so these tests pass once Task 2 does.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab03_util.hpp"
#include "rt/sched.hpp"

using lab03::str;

GRADED_TEST("sched: a readied goroutine runs next", 5, "Task 2: park and ready") {
  std::vector<char> order;
  gort::run(
      [&] {
        gort::WaitGroup gate, wg;  // no channel: WaitGroup::wait parks, done() readies
        gate.add(1);
        wg.add(3);
        gort::go([&] {
          gate.wait();  // parks: the gate is closed
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
        gate.done();  // readies R: it goes to runnext, ahead of A and B
        wg.wait();
      },
      {.procs = 1});
  std::string got(order.begin(), order.end());
  std::string why =
      got == "RBA"   ? "R ran next, but then B before A: the ring returned the newest G first — "
                       "runq_get must pop the ring's head (FIFO, Task 1)"
      : got == "ABR" ? "R ran last: ready() must put the woken goroutine in runnext "
                       "(runq_put(p, gp, true)), and runq_put must honour next"
                     : "ready() must put the woken goroutine in runnext, so it runs before "
                       "goroutines that were already queued";
  CHECK_MESSAGE(got == "RAB", "order was ", got, ", expected RAB: ", why);
}

GRADED_TEST("sched: a goroutine taken from runnext inherits the time slice", 5,
            "Task 2: find_runnable and fairness") {
  std::uint64_t at_start = 99, after_handoffs = 0, after_yields = 0;
  gort::run(
      [&] {
        // main itself came from runnext (new_proc put it there): no tick yet.
        at_start = gort::rt::current_p()->schedtick;
        for (int i = 0; i < 50; ++i) {
          gort::WaitGroup wg;
          wg.add(1);
          gort::go([&] { wg.done(); });  // runs from runnext, readies main into runnext
          wg.wait();
        }
        after_handoffs = gort::rt::current_p()->schedtick;
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&] {
          for (int i = 0; i < 20; ++i) gort::yield();  // alone: back from the ring each time
          wg.done();
        });
        wg.wait();
        after_yields = gort::rt::current_p()->schedtick;
      },
      {.procs = 1});
  CHECK_MESSAGE(at_start == 0, "main started with schedtick ", at_start,
                ", expected 0: main is taken from runnext, so execute must not bump schedtick "
                "(inherit_time)");
  CHECK_MESSAGE(after_handoffs == at_start,
                "50 hand-offs through runnext (go, then the "
                "goroutine readies main) moved schedtick from ",
                at_start, " to ", after_handoffs,
                ": a G from runnext inherits the time slice, execute bumps schedtick only when "
                "inherit_time is false");
  CHECK_MESSAGE(after_yields >= after_handoffs + 20,
                "20 yields of a goroutine taken back from "
                "the ring moved schedtick only from ",
                after_handoffs, " to ", after_yields,
                ": execute must bump schedtick for every G that does not inherit the slice");
}

GRADED_TEST("sched: ready of a goroutine that is not waiting is a fatal error", 4,
            "Task 2: park and ready") {
  // A G still queued (runnable) ...
  auto r = lab03::run_in_child([] {
    gort::run(
        [] {
          gort::go([] {});  // runnable, in runnext
          gort::rt::G* queued = gort::rt::current_p()->runnext.load();
          if (queued != nullptr) gort::rt::ready(queued);
        },
        {.procs = 1});
  });
  std::string want = "bad transition waiting -> runnable: it is runnable";
  CHECK_MESSAGE((r.exit_code == 2 && r.err.find(want) != std::string::npos),
                "ready() of a runnable goroutine must stop with a fatal error naming the "
                "transition (cas_status(gp, waiting, runnable) prints 'fatal error: casgstatus: "
                "goroutine N: ",
                want, "'); got ", r.how(), ", stderr:\n", r.err);
  // ... and the running G itself.
  auto r2 = lab03::run_in_child(
      [] { gort::run([] { gort::rt::ready(gort::rt::current_g()); }, {.procs = 1}); });
  std::string want2 = "bad transition waiting -> runnable: it is running";
  CHECK_MESSAGE((r2.exit_code == 2 && r2.err.find(want2) != std::string::npos),
                "ready() of the running goroutine must stop with a fatal error ('", want2,
                "'); got ", r2.how(), ", stderr:\n", r2.err);
}

GRADED_TEST("sched: new and readied goroutines wake an idle P", 5, "Task 2: park and ready") {
  using gort::rt::sched;
  std::uint64_t threads_after_go = 0;
  bool stuck = false;
  std::atomic<bool> z_ran{false};
  gort::run(
      [&] {
        // go() with 3 idle Ps and nobody spinning: wakep must start an M now.
        gort::WaitGroup gate, wg;
        gate.add(1);
        wg.add(2);
        std::atomic<gort::rt::G*> w{nullptr};
        gort::go([&] {
          w = gort::rt::current_g();
          gate.wait();
          wg.done();
        });
        threads_after_go = gort::debug::stats().threads;
        // Every M but ours parked on the idle list, none spinning (and, if
        // asked, W parked): read under sched.lock, as the idle list is kept.
        auto quiet = [&](bool need_w_parked) {
          gort::rt::G* wg_ = w.load();
          if (need_w_parked && (wg_ == nullptr || wg_->status.load() != gort::GStatus::waiting)) {
            return false;
          }
          std::lock_guard<gort::os::FutexMutex> lk(sched.lock);
          return sched.nmspinning.load() == 0 &&
                 static_cast<std::size_t>(sched.nmidle) + 1 == sched.allm.size();
        };
        while (!quiet(true)) gort::yield();
        // Z waits in runnext (which no other P takes); readying W pushes Z to
        // the ring, where an M woken by ready's wakep finds it.
        gort::go([&] {
          z_ran = true;
          wg.done();
        });
        while (!quiet(true)) {
        }
        gate.done();  // ready(W): W -> runnext, Z -> the ring
        while (!z_ran.load()) {
          if (quiet(false) && !z_ran.load()) {  // every other M idle, Z still queued: nobody woke
            stuck = true;
            break;
          }
        }
        wg.wait();
      },
      {.procs = 4});
  CHECK_MESSAGE(threads_after_go >= 2, "after the first go() with 4 Ps only ", threads_after_go,
                " thread exists: new_proc must call wakep() so an idle P gets an M");
  CHECK_MESSAGE(!stuck,
                "after ready() pushed a runnable goroutine to the ring, every other M "
                "stayed idle: ready must call wakep() so an idle P picks up the work");
}

GRADED_TEST("sched: the global queue is served every 61 ticks", 4,
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

GRADED_TEST("sched: every goroutine runs exactly once on several Ps", 4,
            "Task 2: goroutines on several Ps") {
#if defined(GORT_TSAN)
  constexpr int kSpawners = 40;  // TSan is slow: fewer goroutines, same interleavings
#else
  constexpr int kSpawners = 200;
#endif
  constexpr int kLeaves = 50, kN = kSpawners * kLeaves;
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

GRADED_TEST("sched: 100000 goroutines block and finish", 4, "Task 2: goroutines on several Ps") {
#if defined(GORT_TSAN)
  // TSan gives each goroutine a fiber whose creation clears ~768 KiB of
  // TSan's per-thread state (page faults included): 5000 took 13 s, near the
  // time limit on a loaded machine. Race detection needs no more than this.
  static constexpr long kN = 1000;
#else
  static constexpr long kN = 100000;
#endif
  std::atomic<long> sum{0};
  std::uint64_t live_blocked = 0;
  gort::run(
      [&] {
        gort::WaitGroup gate, finished;  // no channel: WaitGroup parks and readies
        gate.add(1);
        finished.add(kN);
        for (long i = 1; i <= kN; ++i) {
          gort::go([&, i] {
            gate.wait();  // every one of them parks here
            sum.fetch_add(2 * i);
            finished.done();
          });
        }
        // Let every goroutine reach wait() and park.
        for (int k = 0; k < 4; ++k) gort::yield();
        live_blocked = gort::debug::stats().goroutines_live;
        gate.done();  // readies all of them at once: runnext, the ring, overflow
        finished.wait();
      },
      {.procs = 2});
  CHECK_MESSAGE(live_blocked >= static_cast<std::uint64_t>(kN), "stats().goroutines_live was ",
                live_blocked, " with ", kN,
                " goroutines blocked (expected at least that many live)");
  CHECK_MESSAGE(sum.load() == kN * (kN + 1), "sum of results ", sum.load(), ", expected ",
                kN * (kN + 1), ": some goroutines never ran, or ran twice");
}

GRADED_TEST("sched: run returns main's value and can run again", 3,
            "Task 2: starting and ending goroutines") {
  // The WaitGroup outlives the run: when main returns, 10 goroutines are
  // still parked on it, and only run() waits for every M to stop. The
  // goroutines refer to it by pointer because an abandoned goroutine's
  // captures are never destroyed.
  gort::WaitGroup never;
  never.add(1);
  int r1 = gort::run(
      [&never] {
        for (int i = 0; i < 10; ++i) gort::go([w = &never] { w->wait(); });
        gort::yield();
        return 42;
      },
      {.procs = 2});
  CHECK_MESSAGE(r1 == 42, "run returned ", r1,
                ", expected main's 42 — main returning ends the run even though 10 goroutines "
                "are still blocked");
  int r2 = gort::run(
      [] {
        gort::WaitGroup wg;
        int v = 0;
        wg.add(1);
        gort::go([&] {
          v = 6;
          wg.done();
        });
        wg.wait();
        return v + 1;
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

GRADED_TEST("sched: a deadlock is reported with each goroutine's wait reason", 3,
            "Task 2: park and ready") {
  auto r = lab03::run_in_child([] {
    gort::run(
        [] {
          gort::Mutex mu;
          gort::WaitGroup never;
          never.add(1);
          mu.lock();
          std::atomic<std::uint64_t> locker{0};
          gort::go([&mu, &locker] {
            locker = gort::debug::goroutine_id();
            mu.lock();  // blocks forever: main never unlocks
          });
          while (locker.load() == 0) gort::yield();
          std::printf("%llu\n", static_cast<unsigned long long>(locker.load()));
          std::fflush(stdout);
          never.wait();  // main blocks forever too
        },
        {.procs = 2});
  });
  CHECK_MESSAGE(r.exit_code == 2, "the deadlocked program ended with ", r.how(),
                ", expected exit code 2; stderr:\n", r.err);
  CHECK_MESSAGE(
      r.err.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos,
      "missing 'fatal error: all goroutines are asleep - deadlock!' in stderr:\n", r.err);
  CHECK_MESSAGE(r.err.find("goroutine 1 [sync.WaitGroup.Wait]:") != std::string::npos,
                "the report must list 'goroutine 1 [sync.WaitGroup.Wait]:' (main); stderr:\n",
                r.err);
  std::string locker =
      "goroutine " + std::string(r.out.substr(0, r.out.find('\n'))) + " [sync.Mutex.Lock]:";
  CHECK_MESSAGE(r.err.find(locker) != std::string::npos,
                "the report must list the blocked goroutine as '", locker, "'; stderr:\n", r.err);
}
