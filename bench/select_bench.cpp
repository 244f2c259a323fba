// gort side of the select and timer benchmarks (issue 12), side by side with
// go/select/select.go: the same figures, sizes and output ("name value
// unit"), one figure per process (argv[1]); bench_driver alternates the two
// programs and compares medians (`make bench` runs it with --figures=...).
//
//   select_ready_1p     a two-case select where one channel has a value
//                       buffered and the other is empty: lock both, poll in
//                       random order, take the value. ns per select.
//   select_park_1p/_2p  a ping-pong whose receiver waits in a two-case select
//                       (ping or quit): every round the select parks (a Waiter
//                       on each channel), is woken by the sender, and takes
//                       its Waiter off the other channel. ns per round trip.
//   timers_1m           arm 1,000,000 Timers with deadlines spread over 50 ms,
//                       then receive each one's value: heap inserts, firing
//                       in deadline order, channel sends. ms in total.
//   timeout_pingpong_1p a ping-pong where each receive is guarded by a fresh
//                       1 s Timer that is stopped once the value came (Go's
//                       usual "receive with a timeout"). ns per round trip.
#include <gort/gort.hpp>

#include <optional>
#include <vector>

#include "bench_common.hpp"

using namespace gort_bench;

namespace {

constexpr long kSelectReady = 2000000;
constexpr long kSelectPark = 500000;
constexpr long kTimers = 1000000;
constexpr long kTimeoutRounds = 300000;

double bench_select_ready() {
  gort::Chan<long> a(kSelectReady), b;
  for (long i = 0; i < kSelectReady; ++i) a.send(i);
  long sum = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < kSelectReady; ++i) {
    gort::select(gort::recv(a, [&](std::optional<long> v) { sum += v.value_or(0); }),
                 gort::recv(b));
  }
  double ns = ns_since(start);
  check(sum == kSelectReady * (kSelectReady - 1) / 2, "select_ready sum");
  return ns / kSelectReady;
}

double bench_select_park() {
  gort::Chan<long> ping, pong, quit;
  gort::go([&] {
    for (;;) {
      bool stop = false;
      long got = 0;
      gort::select(gort::recv(ping, [&](std::optional<long> v) { got = v.value_or(0); }),
                   gort::recv(quit, [&] { stop = true; }));
      if (stop) return;
      pong.send(got + 1);
    }
  });
  auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < kSelectPark; ++r) {
    ping.send(r);
    check(pong.recv().value_or(-1) == r + 1, "select_park value");
  }
  double ns = ns_since(start);
  quit.close();
  return ns / kSelectPark;
}

double bench_timers() {
  std::vector<gort::Timer> timers;
  timers.reserve(kTimers);
  auto start = std::chrono::steady_clock::now();
  std::uint64_t x = 88172645463325252ull;
  for (long i = 0; i < kTimers; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    timers.emplace_back(std::chrono::microseconds(x % 50000));
  }
  long n = 0;
  for (auto& t : timers) n += t.c().recv().has_value();
  double ns = ns_since(start);
  check(n == kTimers, "every timer fired");
  return ns / 1e6;
}

double bench_timeout_pingpong() {
  gort::Chan<long> ping, pong;
  gort::go([&] {
    for (long r = 0; r < kTimeoutRounds; ++r) {
      gort::Timer t(std::chrono::seconds(1));
      long got = -1;
      gort::select(gort::recv(ping, [&](std::optional<long> v) { got = v.value_or(-1); }),
                   gort::recv(t.c()));
      t.stop();
      pong.send(got + 1);
    }
  });
  auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < kTimeoutRounds; ++r) {
    ping.send(r);
    check(pong.recv().value_or(-1) == r + 1, "timeout_pingpong value");
  }
  return ns_since(start) / kTimeoutRounds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FIGURE\n", argv[0]);
    return 2;
  }
  std::string_view name = argv[1];
  double value = 0;
  const char* unit = "ns";
  bool known = true;
  gort::run(
      [&] {
        if (name == "select_ready_1p") {
          value = bench_select_ready();
        } else if (name == "select_park_1p" || name == "select_park_2p") {
          value = bench_select_park();
        } else if (name == "timers_1m") {
          value = bench_timers();
          unit = "ms";
        } else if (name == "timeout_pingpong_1p") {
          value = bench_timeout_pingpong();
        } else {
          known = false;
        }
      },
      {.procs = figure_procs(name)});
  if (!known) {
    std::fprintf(stderr, "%s: unknown figure '%s'\n", argv[0], argv[1]);
    return 2;
  }
  report(name, value, unit);
  return 0;
}
