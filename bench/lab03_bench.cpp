// Lab 03 micro-benchmark (solution only; `make bench`): the scheduler's hot
// paths on 1 P and on 2 Ps — a goroutine switch through yield(), an
// unbuffered-channel ping-pong round trip, spawn+run+exit (independent and
// chained, like Go's BenchmarkCreateGoroutines). Each figure is the best of
// three runs, printed as `name value unit`. The side-by-side comparison with
// Go and Boost.Fiber lives in bench/.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "gort/gort.hpp"

namespace {

using clk = std::chrono::steady_clock;

double per_op(clk::time_point a, clk::time_point b, long n) {
  return std::chrono::duration<double, std::nano>(b - a).count() / static_cast<double>(n);
}

void chain(long n, gort::WaitGroup* wg) {
  if (n == 0) {
    wg->done();
    return;
  }
  gort::go(chain, n - 1, wg);
}

struct Figures {
  double yield = 1e30, pingpong = 1e30, spawn = 1e30, spawn_chain = 1e30;
};

void measure(Figures& f, int procs) {
  gort::run(
      [&] {
        constexpr long kN = 1'000'000;
        {
          gort::WaitGroup wg;
          wg.add(2);
          auto t0 = clk::now();
          for (int k = 0; k < 2; ++k) {
            gort::go([&] {
              for (long i = 0; i < kN; ++i) gort::yield();
              wg.done();
            });
          }
          wg.wait();
          f.yield = std::min(f.yield, per_op(t0, clk::now(), 2 * kN));
        }
        {
          gort::Chan<int> a, b;
          gort::go([a, b] {
            while (auto v = a.recv()) b.send(*v);
          });
          auto t0 = clk::now();
          for (long i = 0; i < kN / 2; ++i) {
            a.send(1);
            b.recv();
          }
          f.pingpong = std::min(f.pingpong, per_op(t0, clk::now(), kN / 2));
          a.close();
        }
        {
          gort::WaitGroup wg;
          auto t0 = clk::now();
          for (long i = 0; i < kN / 2; ++i) {
            wg.add();
            gort::go([&wg] { wg.done(); });
            if ((i & 63) == 0) gort::yield();
          }
          wg.wait();
          f.spawn = std::min(f.spawn, per_op(t0, clk::now(), kN / 2));
        }
        {
          gort::WaitGroup wg;
          wg.add();
          auto t0 = clk::now();
          gort::go(chain, kN / 2, &wg);
          wg.wait();
          f.spawn_chain = std::min(f.spawn_chain, per_op(t0, clk::now(), kN / 2));
        }
      },
      {.procs = procs});
}

}  // namespace

int main() {
  for (int procs : {1, 2}) {
    Figures f;
    for (int rep = 0; rep < 3; ++rep) measure(f, procs);
    std::string s = "_" + std::to_string(procs) + "p";
    std::printf("gort_yield_switch%s %.1f ns\n", s.c_str(), f.yield);
    std::printf("gort_chan_pingpong_rtt%s %.1f ns\n", s.c_str(), f.pingpong);
    std::printf("gort_spawn_run_exit%s %.1f ns\n", s.c_str(), f.spawn);
    std::printf("gort_spawn_chain%s %.1f ns\n", s.c_str(), f.spawn_chain);
  }
  std::printf("# targets on 1 P: yield <= 30 ns, ping-pong <= 150 ns, spawn <= 100 ns\n");
}
