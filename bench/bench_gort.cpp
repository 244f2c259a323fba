// gort side of the side-by-side benchmarks: the same figures, sizes and
// output as go/gobench.go and bench_fiber.cpp, written against the public API
// (gort/gort.hpp) exactly as a user program would — no runtime internals.
// One figure per process (argv[1]); bench_driver runs the three
// implementations alternately and compares medians.
//
// What each figure exercises in the runtime:
//   yield_1p        gort::yield → runq_put at the tail + schedule(): the raw
//                   cost of one G→g0→G' switch pair on one P.
//   pingpong_*      an unbuffered Chan rendezvous: park the receiver, the
//                   sender copies straight into its slot and ready()s it into
//                   runnext. One round trip = two rendezvous.
//   spawn_1p        go() + first run + exit + G/stack reuse from the free list,
//                   chained (each goroutine starts the next), as Go's
//                   BenchmarkCreateGoroutines does.
//   skynet_*        1M goroutines in a 10-ary tree talking over unbuffered
//                   channels: creation, parking and waking at scale.
//   mem_blocked_1m  resident bytes per goroutine parked on a channel receive.
//   fib_*           fork-join fib(35): a goroutine per call above a cutoff,
//                   joined by a WaitGroup; all of it spawned from one P, so
//                   on 2 Ps the second P has only what it steals (Lab 06).
#include <gort/gort.hpp>

#include "bench_common.hpp"

using namespace gort_bench;

namespace {

double bench_yield() {
  gort::WaitGroup wg;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    wg.add(1);
    gort::go([&wg] {
      for (long r = 0; r < kYieldRounds; ++r) gort::yield();
      wg.done();
    });
  }
  wg.wait();
  return ns_since(start) / (2.0 * kYieldRounds);
}

double bench_pingpong() {
  gort::Chan<long> ping, pong;
  gort::go([ping, pong] {
    while (auto v = ping.recv()) pong.send(*v + 1);
    pong.close();
  });
  auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < kPingPongRounds; ++r) {
    ping.send(r);
    check(pong.recv().value_or(-1) == r + 1, "ping-pong value");
  }
  double ns = ns_since(start);
  ping.close();
  check(!pong.recv().has_value(), "pong closed after ping");
  return ns / kPingPongRounds;
}

// The channel is passed by pointer, as Go's closure captures it: copying a
// Chan handle costs two atomic reference-count updates per goroutine, which
// would be the benchmark's cost, not the runtime's.
void spawn_link(long left, const gort::Chan<int>* done) {
  if (left == 0) {
    done->close();
    return;
  }
  gort::go(spawn_link, left - 1, done);
}

double bench_spawn() {
  gort::Chan<int> done;
  auto start = std::chrono::steady_clock::now();
  gort::go(spawn_link, kSpawnCount, &done);
  done.recv();
  double ns = ns_since(start);
  check(gort::debug::stats().goroutines_created >= kSpawnCount + 1, "every link was created");
  return ns / kSpawnCount;
}

void skynet(gort::Chan<long> out, long num, long size, long div) {
  if (size == 1) {
    out.send(num);
    return;
  }
  gort::Chan<long> sub;
  for (long i = 0; i < div; ++i) gort::go(skynet, sub, num + i * (size / div), size / div, div);
  long sum = 0;
  for (long i = 0; i < div; ++i) sum += *sub.recv();
  out.send(sum);
}

double bench_skynet() {
  gort::Chan<long> out;
  auto start = std::chrono::steady_clock::now();
  gort::go(skynet, out, 0L, kSkynetSize, kSkynetDiv);
  long sum = *out.recv();
  double ns = ns_since(start);
  check(sum == kSkynetSize * (kSkynetSize - 1) / 2, "skynet sum");
  return ns / 1e6;
}

double bench_blocked() {
  gort::Chan<int> gate;
  gort::WaitGroup started, finished;
  std::atomic<long> woke{0};
  started.add(kBlockedCount);
  finished.add(kBlockedCount);
  auto before = rss_bytes();
  for (long i = 0; i < kBlockedCount; ++i) {
    gort::go([&, gate] {
      started.done();
      if (!gate.recv().has_value()) woke.fetch_add(1, std::memory_order_relaxed);
      finished.done();
    });
  }
  started.wait();
  gort::sleep_for(std::chrono::milliseconds(20));  // the last few reach their recv
  auto after = rss_bytes();
  gate.close();
  finished.wait();
  check(woke.load() == kBlockedCount, "every blocked goroutine saw the close");
  return double(after - before) / kBlockedCount / 1024.0;
}

long fib_fork(long n) {
  if (n < kFibCutoff) return fib_seq(n);
  long a = 0;
  gort::WaitGroup wg;
  wg.add(1);
  gort::go([&] {
    a = fib_fork(n - 1);
    wg.done();
  });
  long b = fib_fork(n - 2);
  wg.wait();
  return a + b;
}

double bench_fib() {
  auto start = std::chrono::steady_clock::now();
  long f = fib_fork(kFibN);
  double ns = ns_since(start);
  check(f == 9227465, "fib(35)");
  return ns / 1e6;
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
        if (name == "yield_1p") {
          value = bench_yield();
        } else if (name == "pingpong_1p" || name == "pingpong_2p") {
          value = bench_pingpong();
        } else if (name == "spawn_1p") {
          value = bench_spawn();
        } else if (name == "skynet_1p" || name == "skynet_2p") {
          value = bench_skynet();
          unit = "ms";
        } else if (name == "mem_blocked_1m") {
          value = bench_blocked();
          unit = "KiB";
        } else if (name == "fib_1p" || name == "fib_2p") {
          value = bench_fib();
          unit = "ms";
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
