// The execution trace's cost (issue 11; `make bench`): yield and channel
// ping-pong on one P, untraced and traced (Config::trace, to a temporary
// file removed afterwards), in the same process, alternating, best of five
// each. Prints the per-operation times, the events each traced run recorded
// (read back from the file's "events" count) and the overhead per event.
// The cost with tracing off against a build without the hooks is measured
// with callgrind (docs/TRACING.md): wall-clock noise on a shared machine
// hides a few instructions.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gort/gort.hpp"

namespace {

using clk = std::chrono::steady_clock;
constexpr long kN = 200'000;

/// Runs one workload; returns ns per operation (the loop only, not the
/// trace's writing at teardown).
double once(bool pingpong, const char* trace) {
  double ns = 0;
  gort::run(
      [&] {
        auto t0 = clk::now();
        if (!pingpong) {
          gort::WaitGroup wg;
          wg.add(2);
          for (int k = 0; k < 2; ++k) {
            gort::go([&] {
              for (long i = 0; i < kN / 2; ++i) gort::yield();
              wg.done();
            });
          }
          wg.wait();
        } else {
          gort::Chan<int> a, b;
          gort::go([a, b] {
            while (auto v = a.recv()) b.send(*v);
          });
          for (long i = 0; i < kN; ++i) {
            a.send(1);
            b.recv();
          }
          a.close();
        }
        ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count() / kN;
      },
      {.procs = 1, .trace = trace});
  return ns;
}

/// The "events" count a trace file reports (its otherData), 0 if unreadable.
double events_in(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  std::size_t at = s.rfind("\"events\":");
  return at == std::string::npos ? 0 : std::atof(s.c_str() + at + 9);
}

}  // namespace

int main() {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/gort_trace_bench_" +
                     std::to_string(::getpid()) + ".json";
  for (bool pp : {false, true}) {
    double off = 1e30, on = 1e30, events = 0;
    for (int rep = 0; rep < 5; ++rep) {
      off = std::min(off, once(pp, nullptr));
      on = std::min(on, once(pp, path.c_str()));
      events = events_in(path);
    }
    std::remove(path.c_str());
    const char* name = pp ? "chan_pingpong_rtt" : "yield_switch";
    std::printf("gort_%s_1p_untraced %.1f ns\n", name, off);
    std::printf("gort_%s_1p_traced %.1f ns\n", name, on);
    if (events > 0) {
      std::printf("gort_trace_events_per_op_%s %.2f events\n", name, events / kN);
      std::printf("gort_trace_overhead_per_event_%s %.1f ns\n", name, (on - off) * kN / events);
    }
  }
}
