// Solution-only tests of the channel timers (gort/time.hpp,
// runtime/rt/timers.cpp): after, Timer, Ticker, tick. Timers are checked for
// "never earlier than asked" (never for "not too late": the machine is
// shared), for Go 1.23's stop/reset semantics, and with counted invariants
// where stop races with expiry across Ps. "Has the timer fired?" is decided
// without sleeping: timers fire in deadline order from one heap, so once a
// later timer (gort::after) has been received, an earlier one has sent its
// value too — unless it was stopped.
#include <atomic>
#include <chrono>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "child.hpp"
#include "gort/gort.hpp"

namespace {

using gort_test::Child;
using gort_test::in_child;
using Clock = gort::TimerClock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

/// True if a value can be received from @p c right now (and takes it).
bool ready_now(const gort::Chan<Clock::time_point>& c) {
  return gort::select(gort::recv(c), gort::default_case()) == 0;
}

/// Returns once every timer due at or before now + @p d has fired.
void let_timers_fire(milliseconds d) { gort::after(d).recv(); }

#if defined(GORT_TSAN)
constexpr int kMany = 300;
#else
constexpr int kMany = 3000;
#endif

}  // namespace

TEST_CASE("after: delivers the time once, never early, on several Ps") {
  std::atomic<int> early{0}, received{0};
  gort::run(
      [&] {
        gort::WaitGroup wg;
        for (int i = 0; i < kMany; ++i) {
          wg.add();
          gort::go([&, i] {
            auto d = microseconds((i * 7919) % 3000);
            auto t0 = Clock::now();
            auto v = gort::after(d).recv();
            auto t1 = Clock::now();
            if (!v || *v < t0 + d || t1 < t0 + d) early.fetch_add(1);
            received.fetch_add(v.has_value());
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 4});
  CHECK(received.load() == kMany);
  CHECK(early.load() == 0);
}

TEST_CASE("after: a select with a timeout takes the timeout, not earlier") {
  gort::run([] {
    gort::Chan<int> never;
    auto t0 = Clock::now();
    Clock::time_point fired{};
    int i = gort::select(gort::recv(never),
                         gort::recv(gort::after(milliseconds(3)),
                                    [&](std::optional<Clock::time_point> v) { fired = *v; }));
    CHECK(i == 1);
    CHECK(fired >= t0 + milliseconds(3));
    CHECK(Clock::now() >= t0 + milliseconds(3));
  });
}

TEST_CASE("Timer: stop before expiry returns true and nothing is ever sent") {
  gort::run([] {
    gort::Timer t(milliseconds(2));
    CHECK(t.stop() == true);
    CHECK(t.stop() == false);  // already stopped
    let_timers_fire(milliseconds(5));
    CHECK_FALSE(ready_now(t.c()));
  });
}

TEST_CASE("Timer: Go 1.23 - an expired but unreceived value is discarded by stop and reset") {
  gort::run([] {
    gort::Timer t(microseconds(100));
    let_timers_fire(milliseconds(1));
    CHECK(t.c().size() == 1);  // sent, not received
    CHECK(t.stop() == true);   // still "active": its value was not received
    CHECK(t.c().size() == 0);  // ... and it is gone
    CHECK(t.stop() == false);

    gort::Timer u(microseconds(100));
    let_timers_fire(milliseconds(1));
    CHECK(u.reset(std::chrono::hours(1)) == true);
    CHECK_FALSE(ready_now(u.c()));  // no stale value after reset
    CHECK(u.stop() == true);        // armed again by reset
  });
}

TEST_CASE("Timer: after its value is received, stop and reset return false; reset re-arms") {
  gort::run([] {
    gort::Timer t(microseconds(50));
    auto first = t.c().recv();
    CHECK(first.has_value());
    CHECK(t.stop() == false);
    auto t0 = Clock::now();
    CHECK(t.reset(milliseconds(2)) == false);
    auto v = t.c().recv();
    REQUIRE(v.has_value());
    CHECK(*v >= t0 + milliseconds(2));
    // reset of an armed timer moves its deadline, and reports it was active.
    auto t1 = Clock::now();
    gort::Timer u(std::chrono::hours(1));
    CHECK(u.reset(milliseconds(1)) == true);
    v = u.c().recv();
    CHECK(*v >= t1 + milliseconds(1));
    // A non-positive duration fires at once (at the next scheduling point).
    gort::Timer now(milliseconds(-5));
    CHECK(now.c().recv().has_value());
  });
}

TEST_CASE("Timer: without a receiver, stop always wins and leaves nothing behind") {
  // Go 1.23: until the program receives the value, the timer is active, so
  // stop() must return true — fired or not — and the channel be empty.
  std::atomic<int> wrong{0};
  gort::run(
      [&] {
        gort::WaitGroup wg;
        for (int i = 0; i < kMany; ++i) {
          wg.add();
          gort::go([&, i] {
            gort::Timer t(microseconds(i % 50));
            for (int k = 0; k < i % 7; ++k) gort::yield();
            if (!t.stop() || t.c().size() != 0) wrong.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 4});
  CHECK(wrong.load() == 0);
}

TEST_CASE("Timer: stop racing expiry across Ps - each timer is received or stopped, once") {
  constexpr int kN = kMany;
  std::vector<std::atomic<int>> got(kN), stopped(kN);
  gort::run(
      [&] {
        gort::WaitGroup wg;
        for (int i = 0; i < kN; ++i) {
          wg.add(2);
          gort::Timer t(microseconds(i % 40));
          gort::Chan<bool> quit;
          gort::go([&, i, t, quit] {
            gort::select(gort::recv(t.c(), [&] { got[i].fetch_add(1); }), gort::recv(quit));
            wg.done();
          });
          gort::go([&, i, t, quit]() mutable {
            for (int k = 0; k < i % 5; ++k) gort::yield();
            if (t.stop()) stopped[i].fetch_add(1);
            quit.close();
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 4});
  int bad = 0, n_stopped = 0;
  for (int i = 0; i < kN; ++i) {
    bad += got[i].load() + stopped[i].load() != 1;
    n_stopped += stopped[i].load();
  }
  CHECK_MESSAGE(bad == 0, bad, " timers were both received and stopped, or neither");
  MESSAGE(n_stopped, " of ", kN, " stopped before being received");
}

TEST_CASE("Timer: fires while its receiver parks on a busy P (no self-deadlock, no starvation)") {
  // On one P with a goroutine always runnable, a receiver parking on a due
  // timer's channel goes G -> G' directly, and the timer check on its way
  // out meets the channel lock the receiver still holds: the timer must be
  // fired later, not waited for.
  gort::run(
      [] {
        std::atomic<bool> stop{false};
        gort::go([&] {
          while (!stop.load()) gort::yield();
        });
        for (int i = 0; i < 2000; ++i) {
          gort::Timer t(std::chrono::nanoseconds(i % 3 == 0 ? 0 : 1000));
          CHECK(t.c().recv().has_value());
        }
        stop.store(true);
      },
      {.procs = 1});
}

TEST_CASE("Timer: handles are shared; a dropped Timer still fires") {
  gort::run([] {
    gort::Chan<Clock::time_point> c;
    {
      gort::Timer t(microseconds(200));
      gort::Timer copy = t;
      c = copy.c();
      CHECK(copy.c() == t.c());
    }
    CHECK(c.recv().has_value());  // every handle gone, the timer still fired
  });
  // A timer still armed when run() returns is dropped; the next run works.
  gort::run([] { gort::Timer t(std::chrono::hours(1)); });
  gort::run([] { CHECK(gort::after(microseconds(10)).recv().has_value()); });
}

TEST_CASE("Ticker: the k-th tick comes no earlier than k periods after the start") {
  gort::run(
      [] {
        auto t0 = Clock::now();
        gort::Ticker tk(milliseconds(2));
        Clock::time_point prev{};
        for (int k = 1; k <= 6; ++k) {
          auto v = tk.c().recv();
          REQUIRE(v.has_value());
          CHECK(*v >= t0 + k * milliseconds(2));
          CHECK(*v > prev);
          prev = *v;
        }
        tk.stop();
      },
      {.procs = 2});
}

TEST_CASE("Ticker: a slow reader gets one pending tick, never a pile") {
  gort::run([] {
    gort::Ticker tk(microseconds(200));
    let_timers_fire(milliseconds(5));  // ~25 periods unread
    CHECK(tk.c().size() == 1);
    CHECK(ready_now(tk.c()));
    CHECK_FALSE(ready_now(tk.c()));  // the missed ticks were dropped, not queued
    tk.stop();
  });
}

TEST_CASE("Ticker: stop stops the ticks and drops a pending one; reset restarts it") {
  gort::run([] {
    gort::Ticker tk(microseconds(300));
    CHECK(tk.c().recv().has_value());
    let_timers_fire(milliseconds(1));
    tk.stop();
    CHECK(tk.c().size() == 0);
    let_timers_fire(milliseconds(3));
    CHECK_FALSE(ready_now(tk.c()));
    auto t0 = Clock::now();
    tk.reset(milliseconds(2));
    auto v = tk.c().recv();
    REQUIRE(v.has_value());
    CHECK(*v >= t0 + milliseconds(2));
    v = tk.c().recv();
    CHECK(*v >= t0 + milliseconds(4));
    tk.stop();
    // tick(): a ticker channel with no handle to stop.
    auto t1 = Clock::now();  // before tick() arms it: the grid starts after t1
    auto c = gort::tick(microseconds(100));
    for (int k = 1; k <= 3; ++k) CHECK(*c.recv() >= t1 + k * microseconds(100));
  });
}

TEST_CASE("timers: many timers and sleepers with random deadlines, all fire, never early") {
  std::atomic<int> early{0}, fired{0};
  gort::run(
      [&] {
        gort::WaitGroup wg;
        std::mt19937 rng(12345);
        for (int i = 0; i < kMany; ++i) {
          auto d = microseconds(rng() % 20000);
          wg.add();
          gort::go([&, d, i] {
            auto t0 = Clock::now();
            if (i % 2) {
              gort::Timer t(d);
              if (*t.c().recv() < t0 + d) early.fetch_add(1);
            } else {
              gort::sleep_for(d);
            }
            if (Clock::now() < t0 + d) early.fetch_add(1);
            fired.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 4});
  CHECK(fired.load() == kMany);
  CHECK(early.load() == 0);
}

TEST_CASE("timers: misuse gets Go's words") {
  Child c = in_child([] { gort::run([] { gort::Ticker tk(std::chrono::seconds(0)); }); });
  CHECK(c.code == 2);
  CHECK_MESSAGE(c.err.find("panic: non-positive interval for NewTicker") != std::string::npos,
                c.err);
  c = in_child([] {
    gort::run([] {
      gort::Ticker tk(std::chrono::seconds(1));
      tk.reset(milliseconds(-1));
    });
  });
  CHECK(c.code == 2);
  CHECK_MESSAGE(c.err.find("panic: non-positive interval for Ticker.Reset") != std::string::npos,
                c.err);
  try {
    gort::Timer t(milliseconds(1));
    FAIL("a Timer outside gort::run did not throw");
  } catch (const std::logic_error& e) {
    CHECK(std::string(e.what()).find("outside gort::run") != std::string::npos);
  }
  CHECK_THROWS_AS(gort::after(milliseconds(1)), std::logic_error);
}
