// lab01_demo — concurrency versus parallelism, measured on this machine.
//
// The same job — count the primes below a bound — three ways, in one run:
//   1. on one thread;
//   2. on N threads (N = hardware threads) that are all confined to ONE CPU:
//      they are concurrent (the kernel interleaves them) but never parallel;
//   3. on N threads free to use N CPUs: concurrent *and* parallel.
// Only 3 can be faster than 1; 2 costs the same work plus switches. That is
// the difference between the two words: concurrency is how a program is
// structured (several things in progress), parallelism is how it runs
// (several things executing at the same instant), and it needs hardware.
//
// Usage: lab01_demo [upper_bound]   (default 4000000)
#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "os/speedup.hpp"
#include "pingpong.hpp"

namespace {

template <class F>
double seconds(F f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t hi = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4000000;
  unsigned n = std::thread::hardware_concurrency();
  if (n == 0) n = 2;

  const int busy = gort::bench::other_runnable_threads();
  std::uint64_t serial = 0;
  gort::os::ParallelCount one_cpu, parallel;
  const double t1 = seconds([&] { serial = gort::os::count_primes(0, hi); });

  // N threads on one CPU: the workers inherit the creating thread's affinity.
  cpu_set_t saved;
  CPU_ZERO(&saved);
  pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
  gort::bench::pin_current_thread(gort::bench::first_allowed_cpu());
  const double tc = seconds([&] { one_cpu = gort::os::count_primes_parallel(0, hi, n); });
  pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);

  const double tp = seconds([&] { parallel = gort::os::count_primes_parallel(0, hi, n); });

  if (one_cpu.primes != serial || parallel.primes != serial) {
    std::fprintf(stderr, "wrong count: %llu / %llu / %llu\n", (unsigned long long)serial,
                 (unsigned long long)one_cpu.primes, (unsigned long long)parallel.primes);
    return 1;
  }
  std::printf("primes below %llu: %llu\n\n", (unsigned long long)hi, (unsigned long long)serial);
  std::printf("  1 thread                               %8.3f s\n", t1);
  std::printf("  %2u threads on 1 CPU (concurrent)       %8.3f s   speedup %.2fx\n", n, tc,
              t1 / tc);
  std::printf("  %2u threads on %u CPUs (parallel)        %8.3f s   speedup %.2fx\n\n", n, n, tp,
              t1 / tp);
  const double sp = t1 / tp;
  std::printf("This machine has %u hardware threads; %d other threads were runnable at the start",
              n, busy);
  std::printf(busy > 0 ? "\n(they compete with ours: expect noisy times).\n" : ".\n");
  std::printf(
      "Confined to one CPU, %u threads only take turns (%.2fx): concurrency, several\n"
      "tasks in progress at once, adds no hardware, so it is no faster than one thread.\n",
      n, t1 / tc);
  std::printf("Free to use %u CPUs, the threads run at the same instant (%.2fx).\n", n, sp);
  if (n == 1) {
    std::printf("With one hardware thread there is nothing to spread over.\n");
  } else if (sp > 0.8 * n) {
    std::printf("That is close to the ideal %ux: the shares are even and share no data.\n", n);
  } else {
    std::printf(
        "That is short of the ideal %ux: other programs were using the CPUs too,\n"
        "or the hardware threads share a core's execution units.\n",
        n);
  }
  return 0;
}
