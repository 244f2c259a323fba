// Lab 01 — concurrency versus parallelism, measured.
//
// The same CPU-bound job (counting primes in a range) split over 1 and over N
// OS threads. On one core the N threads are *concurrent* (interleaved by the
// kernel) and finish no sooner; on N cores they are *parallel* and finish up
// to N times sooner. The demo prints both times from the same run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace gort::os {

/// Number of primes p with lo <= p < hi, computed on the calling thread.
std::uint64_t count_primes(std::uint64_t lo, std::uint64_t hi);

/// Result of count_primes_parallel().
struct ParallelCount {
  std::uint64_t primes = 0;        ///< the count, equal to count_primes(lo, hi)
  std::vector<pid_t> worker_tids;  ///< the tid of every worker thread used, one per thread
};

/// Counts the primes in [lo, hi) on @p threads new OS threads (gort::os::Thread),
/// each taking a share of the range, and joins them all before returning.
/// Throws std::invalid_argument if threads == 0.
ParallelCount count_primes_parallel(std::uint64_t lo, std::uint64_t hi, unsigned threads);

}  // namespace gort::os
