// Lab 01 grader — task 4, count_primes_parallel.
//
// Correctness only: the answer must equal the serial count, and the work must
// really be spread over `threads` distinct OS threads. How much faster it is
// depends on the machine; lab01_demo measures that, the grader does not.
#include <set>
#include <stdexcept>

#include "gort_grader.hpp"
#include "lab01_test_util.hpp"
#include "os/speedup.hpp"

using gort::os::count_primes;
using gort::os::count_primes_parallel;

GRADED_TEST("speedup: the parallel prime count is right and uses one thread per share", 10,
            "Task 4") {
  struct Range {
    std::uint64_t lo, hi;
  };
  const Range ranges[] = {{0, 100000}, {1000003, 1077777}, {10, 15}, {7, 7}};
  const pid_t self = lab01_test::gettid_raw();
  for (const Range& r : ranges) {
    const std::uint64_t expected = count_primes(r.lo, r.hi);
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
      INFO("range [" << r.lo << ", " << r.hi << ") on " << threads << " threads");
      auto got = count_primes_parallel(r.lo, r.hi, threads);
      CHECK_MESSAGE(got.primes == expected,
                    "counted " << got.primes << " primes, the serial count is " << expected);
      CHECK_MESSAGE(got.worker_tids.size() == threads,
                    "expected one worker tid per thread, got " << got.worker_tids.size());
      std::set<pid_t> distinct(got.worker_tids.begin(), got.worker_tids.end());
      CHECK_MESSAGE(distinct.size() == got.worker_tids.size(),
                    "the workers must be distinct threads (distinct tids)");
      CHECK_MESSAGE(distinct.count(self) == 0,
                    "the calling thread must not be listed as a worker: start new threads");
      CHECK_MESSAGE(distinct.count(0) == 0, "a worker tid of 0 is not a thread");
    }
  }
  CHECK_THROWS_AS_MESSAGE(count_primes_parallel(0, 100, 0), std::invalid_argument,
                          "threads == 0 must throw std::invalid_argument");
}
