// Stress (ctest label "stress", not run by default): one million blocked
// goroutines, and their resident memory per goroutine (printed).
#include <sys/resource.h>

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
