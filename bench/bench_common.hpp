// Shared pieces of the C++ side-by-side benchmarks (bench_gort.cpp,
// bench_fiber.cpp): the figure sizes — kept equal to go/gobench.go's — the
// resident-memory probe, and the one-line output format `name value unit`
// that bench_driver parses. Each benchmark program measures ONE figure per
// process, so a figure never inherits another's heap or warm caches.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace gort_bench {

inline constexpr long kYieldRounds = 1000000;  ///< per goroutine; two goroutines yield
inline constexpr long kPingPongRounds = 500000;
inline constexpr long kSpawnCount = 1000000;
inline constexpr long kSkynetSize = 1000000;
inline constexpr long kSkynetDiv = 10;
inline constexpr long kBlockedCount = 1000000;
inline constexpr long kFibN = 35;       ///< fork-join fib(35) (Lab 06)
inline constexpr long kFibCutoff = 20;  ///< below it, plain recursion

/// Sequential Fibonacci, the leaves of the fork-join figure.
[[gnu::noinline]] inline long fib_seq(long n) {
  return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2);
}

/// Every figure a benchmark program accepts, in the order the driver runs them.
inline constexpr const char* kFigures[] = {"yield_1p",       "pingpong_1p", "pingpong_2p",
                                           "spawn_1p",       "skynet_1p",   "skynet_2p",
                                           "mem_blocked_1m", "fib_1p",      "fib_2p"};

/// Processors a figure runs on: 1 for "*_1p", 2 for "*_2p", else 0 (default).
inline int figure_procs(std::string_view name) {
  if (name.ends_with("_1p")) return 1;
  if (name.ends_with("_2p")) return 2;
  return 0;
}

/// Resident set size of this process in bytes, from /proc/self/statm.
inline std::int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

/// Nanoseconds elapsed since @p start.
inline double ns_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
}

/// Prints the figure line the driver reads.
inline void report(std::string_view name, double value, const char* unit) {
  std::printf("%.*s %.2f %s\n", static_cast<int>(name.size()), name.data(), value, unit);
  std::fflush(stdout);
}

/// Exits with a message when a benchmark computed a wrong result.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark result wrong: %s\n", what);
    std::exit(1);
  }
}

}  // namespace gort_bench
