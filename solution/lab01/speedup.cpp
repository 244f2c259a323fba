// Lab 01 (solution) — counting primes on 1 and on N OS threads.
//
// The range is cut into fixed-size blocks dealt round-robin to the workers
// (worker i takes blocks i, i+N, i+2N, ...). Contiguous halves would be
// unfair: trial division costs more for larger numbers, so the worker with
// the top of the range would finish last and hide the speedup. Each worker
// writes only its own slot of the result vector, so no lock is needed; the
// join() makes those writes visible to the caller.
#include "os/speedup.hpp"

#include <stdexcept>

#include "os/os_thread.hpp"

namespace gort::os {
namespace {

constexpr std::uint64_t kBlock = 4096;

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

std::uint64_t count_primes(std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t count = 0;
  for (std::uint64_t n = lo; n < hi; ++n) count += is_prime(n) ? 1 : 0;
  return count;
}

ParallelCount count_primes_parallel(std::uint64_t lo, std::uint64_t hi, unsigned threads) {
  if (threads == 0) throw std::invalid_argument("count_primes_parallel: threads must be >= 1");
  std::vector<std::uint64_t> partial(threads, 0);
  std::vector<Thread> workers;
  workers.reserve(threads);
  try {
    for (unsigned i = 0; i < threads; ++i) {
      workers.emplace_back(
          [&partial, i, lo, hi, threads] {
            std::uint64_t sum = 0;
            for (std::uint64_t b = lo + i * kBlock; b < hi && b >= lo;
                 b += static_cast<std::uint64_t>(threads) * kBlock) {
              std::uint64_t end = (hi - b > kBlock) ? b + kBlock : hi;
              sum += count_primes(b, end);
            }
            partial[i] = sum;
          },
          ThreadOptions{0, "gort-primes" + std::to_string(i)});
    }
  } catch (...) {
    for (auto& w : workers) w.join();  // never leave a joinable Thread behind
    throw;
  }
  ParallelCount result;
  for (auto& w : workers) {
    result.worker_tids.push_back(w.tid());
    w.join();
  }
  for (auto p : partial) result.primes += p;
  return result;
}

}  // namespace gort::os
