// demo_steal — the seed's work-stealing figure from a real run (Lab 06).
//
// main spawns every goroutine of an imbalanced workload on its own P (P0):
// 512 pieces of CPU work of 8 different sizes. Nothing else puts work on
// the other Ps, so whatever runs there was stolen — half of a victim's ring
// at a time. The same program runs on 1 P and on all CPUs; the demo prints
// which P ran how much (a bar per P), the steal counters, and the speedup.
//
//   demo_steal [--procs N]     (default: every CPU)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gort/gort.hpp>

namespace {

constexpr int kPieces = 512;
constexpr long kUnit = 20000;  // loop iterations per unit of work

/// CPU work the compiler cannot remove: returns a value that depends on every step.
[[gnu::noinline]] unsigned long burn(long units) {
  unsigned long x = 88172645463325252ull;
  for (long i = 0; i < units * kUnit; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

struct Result {
  double ms = 0;
  std::vector<long> units_per_p;
  gort::debug::Stats stats;
};

Result run_on(int procs) {
  Result r;
  r.units_per_p.assign(static_cast<std::size_t>(procs), 0);
  std::vector<std::atomic<long>> per_p(static_cast<std::size_t>(procs));
  std::atomic<unsigned long> sink{0};
  gort::run(
      [&] {
        auto start = std::chrono::steady_clock::now();
        gort::WaitGroup wg;
        wg.add(kPieces);
        for (int i = 0; i < kPieces; ++i) {
          long units = (i % 8) + 1;  // imbalanced: 1..8 units
          gort::go([&, units] {
            sink.fetch_xor(burn(units), std::memory_order_relaxed);
            per_p[static_cast<std::size_t>(gort::debug::current_p())].fetch_add(units);
            wg.done();
          });
        }
        wg.wait();
        r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                   .count();
        r.stats = gort::debug::stats();
      },
      {.procs = procs});
  for (int i = 0; i < procs; ++i) r.units_per_p[static_cast<std::size_t>(i)] = per_p[i].load();
  if (sink.load() == 42) std::printf(" ");  // keep the work
  return r;
}

void print(const char* title, const Result& r) {
  long total = 0;
  for (long u : r.units_per_p) total += u;
  std::printf("%s: %.1f ms\n", title, r.ms);
  for (std::size_t p = 0; p < r.units_per_p.size(); ++p) {
    int bar = total ? static_cast<int>(50.0 * r.units_per_p[p] / total + 0.5) : 0;
    std::printf("  P%-2zu %5.1f%% %s%s\n", p, total ? 100.0 * r.units_per_p[p] / total : 0.0,
                std::string(static_cast<std::size_t>(bar), '#').c_str(),
                p == 0 ? "   <- every goroutine was spawned here" : "");
  }
  if (r.units_per_p.size() > 1) {
    const auto& s = r.stats;
    std::printf(
        "  stolen: %llu goroutines in %llu steals (%.1f per steal) out of %llu searches; "
        "at most %llu Ms spinning; %llu Ms woken by a spinner that found work\n",
        static_cast<unsigned long long>(s.steals), static_cast<unsigned long long>(s.steal_batches),
        s.steal_batches ? double(s.steals) / double(s.steal_batches) : 0.0,
        static_cast<unsigned long long>(s.steal_attempts),
        static_cast<unsigned long long>(s.spinning_peak),
        static_cast<unsigned long long>(s.spinner_wakeups));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int procs = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--procs") == 0) procs = std::atoi(argv[i + 1]);
  }
  if (procs < 2) procs = 2;
  std::printf("%d goroutines of 1..8 units of work, all spawned from P0\n\n", kPieces);
  Result one = run_on(1);
  print("GORT_PROCS=1", one);
  Result all = run_on(procs);
  std::printf("\n");
  print(("GORT_PROCS=" + std::to_string(procs)).c_str(), all);
  std::printf("\nspeedup on %d Ps: %.2fx (a busy machine shares its cores with other work)\n",
              procs, one.ms / all.ms);
  return 0;
}
