// Lab 01, task 4 — concurrency versus parallelism: counting primes on N threads.
//
// count_primes() (provided) counts on the calling thread. You write
// count_primes_parallel(): split [lo, hi) among `threads` gort::os::Threads
// (task 2), join them all, add up. Think about how you split: numbers near hi
// cost more to test than numbers near lo. See the handout, section "Task 4".
#include "os/speedup.hpp"

#include <stdexcept>

#include "not_implemented.hpp"
#include "os/os_thread.hpp"

namespace gort::os {
namespace {

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  if (n < 4) return true;
  if (n % 2 == 0 || n % 3 == 0) return false;
  for (std::uint64_t d = 5; d * d <= n; d += 6) {
    if (n % d == 0 || n % (d + 2) == 0) return false;
  }
  return true;
}

}  // namespace

// Provided.
std::uint64_t count_primes(std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t count = 0;
  for (std::uint64_t n = lo; n < hi; ++n) count += is_prime(n) ? 1 : 0;
  return count;
}

ParallelCount count_primes_parallel(std::uint64_t lo, std::uint64_t hi, unsigned threads) {
  // TODO(lab 01, task 4): std::invalid_argument if threads == 0; otherwise
  // start `threads` Threads, each counting its share, record their tids, join
  // them all, and return the total.
  (void)lo;
  (void)hi;
  (void)threads;
  throw gort::NotImplemented("lab 01 task 4: count_primes_parallel");
}

}  // namespace gort::os
