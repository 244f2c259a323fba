// Stress (ctest label "stress", not run by default): one million blocked
// goroutines, and their resident memory per goroutine (printed); one million
// sleepers (sleep_for and gort::Timer) with random deadlines.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include <doctest/doctest.h>

#include "gort/gort.hpp"

TEST_CASE("stress: 1,000,000 goroutines block on a channel and all finish") {
  static constexpr long kN = 1000000;
  long sum = 0;
  long rss_kb = 0;
  gort::run(
      [&] {
        gort::Chan<long> work;
        gort::Chan<long> done(1024);
        for (long i = 0; i < kN; ++i) gort::go([work, done] { done.send(*work.recv()); });
        gort::yield();
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        rss_kb = ru.ru_maxrss;
        CHECK(gort::debug::stats().goroutines_live >= static_cast<unsigned long>(kN));
        gort::go([work] {
          for (long i = 1; i <= kN; ++i) work.send(i);
        });
        for (long i = 0; i < kN; ++i) sum += *done.recv();
      },
      {.procs = 2});
  std::printf("goroutines_1M_rss_per_goroutine %.0f B\n", rss_kb * 1024.0 / kN);
  CHECK(sum == kN * (kN + 1) / 2);
}

TEST_CASE("stress: 1,000,000 goroutines sleep with random deadlines: all wake, never early") {
  // Deadlines spread over 2 s; each sleeper checks the clock when it wakes.
  // Half use sleep_for (the G parks in the heap), half a gort::Timer (the
  // heap entry sends on a channel that the G waits on).
  static constexpr long kN = 1000000;
  std::atomic<long> woke{0}, early{0}, via_timer{0};
  gort::run(
      [&] {
        gort::WaitGroup wg;
        std::uint64_t x = 88172645463325252ull;
        for (long i = 0; i < kN; ++i) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          auto d = std::chrono::microseconds(x % 2000000);
          wg.add();
          gort::go([&, d, i] {
            auto t0 = std::chrono::steady_clock::now();
            if (i % 2 == 0) {
              gort::sleep_for(d);
            } else {
              gort::Timer t(d);
              if (*t.c().recv() < t0 + d) early.fetch_add(1);
              via_timer.fetch_add(1);
            }
            if (std::chrono::steady_clock::now() < t0 + d) early.fetch_add(1);
            woke.fetch_add(1);
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 2});
  CHECK(woke.load() == kN);
  CHECK(via_timer.load() == kN / 2);
  CHECK(early.load() == 0);
}
