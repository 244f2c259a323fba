// Boost.Fiber side of gort's side-by-side benchmarks: the same figures, sizes
// and output as bench_gort.cpp and go/gobench.go, written the way a Boost.Fiber
// user would. "1 P" is the default round_robin scheduler on one thread;
// "2 P" is the work_stealing scheduler on two threads (main + one helper whose
// main fiber sleeps on a fiber condition variable until the figure is done,
// so the helper thread keeps running fibers meanwhile).
//
// skynet is written as Boost.Fiber's own skynet example writes it: children
// start with launch::dispatch (run at once, depth first) and report through a
// buffered_channel(16), so a leaf exits without waiting for its parent. The
// Go-style version (launch::post, unbuffered channels) keeps nearly all 1M
// fibers alive at once under FIFO round_robin: ~7-12 GB of touched stack
// pages and 10-40 s of page faults on our 2-core machine.
//
// Stacks: 16 KiB fixedsize_stack (malloc'd, committed on touch). Boost's
// default (128 KiB, above malloc's mmap threshold) would need one memory
// mapping per fiber, and a million of them exceed vm.max_map_count.
#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_common.hpp"

namespace fibers = boost::fibers;
using namespace gort_bench;

namespace {

constexpr std::size_t kStackSize = 16 * 1024;

template <typename F>
fibers::fiber spawn(F&& f, fibers::launch policy = fibers::launch::post) {
  return fibers::fiber(policy, std::allocator_arg, fibers::fixedsize_stack(kStackSize),
                       std::forward<F>(f));
}

// Runs body() on the calling thread's main fiber with `procs` scheduler threads.
template <typename F>
void with_procs(int procs, F body) {
  if (procs <= 1) {
    body();
    return;
  }
  std::mutex mu;
  fibers::condition_variable_any cv;
  bool done = false;
  std::vector<std::thread> helpers;
  for (int i = 1; i < procs; ++i) {
    helpers.emplace_back([&] {
      fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(procs);
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return done; });
    });
  }
  fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(procs);
  body();
  {
    std::unique_lock<std::mutex> lk(mu);
    done = true;
  }
  cv.notify_all();
  for (auto& t : helpers) t.join();
}

double bench_yield() {
  auto start = std::chrono::steady_clock::now();
  auto a = spawn([] {
    for (long r = 0; r < kYieldRounds; ++r) boost::this_fiber::yield();
  });
  auto b = spawn([] {
    for (long r = 0; r < kYieldRounds; ++r) boost::this_fiber::yield();
  });
  a.join();
  b.join();
  return ns_since(start) / (2.0 * kYieldRounds);
}

double bench_pingpong() {
  fibers::unbuffered_channel<long> ping, pong;
  auto echo = spawn([&] {
    long v;
    while (ping.pop(v) == fibers::channel_op_status::success) pong.push(v + 1);
    pong.close();
  });
  auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < kPingPongRounds; ++r) {
    ping.push(r);
    long v = 0;
    pong.pop(v);
    check(v == r + 1, "ping-pong value");
  }
  double ns = ns_since(start);
  ping.close();
  echo.join();
  return ns / kPingPongRounds;
}

void spawn_link(long left, fibers::buffered_channel<int>* done) {
  if (left == 0) {
    done->push(1);
    return;
  }
  spawn([left, done] { spawn_link(left - 1, done); }).detach();
}

double bench_spawn() {
  fibers::buffered_channel<int> done(2);
  auto start = std::chrono::steady_clock::now();
  spawn([&] { spawn_link(kSpawnCount, &done); }).detach();
  int v;
  done.pop(v);
  return ns_since(start) / kSpawnCount;
}

using SkynetChan = fibers::buffered_channel<long>;

void skynet(SkynetChan& out, long num, long size, long div) {
  if (size == 1) {
    out.push(num);
    return;
  }
  SkynetChan sub(16);
  for (long i = 0; i < div; ++i) {
    spawn([&sub, num, i, size, div] { skynet(sub, num + i * (size / div), size / div, div); },
          fibers::launch::dispatch)
        .detach();
  }
  long sum = 0;
  for (long i = 0; i < div; ++i) {
    long v = 0;
    sub.pop(v);
    sum += v;
  }
  out.push(sum);
}

double bench_skynet() {
  SkynetChan out(2);
  auto start = std::chrono::steady_clock::now();
  spawn([&] { skynet(out, 0, kSkynetSize, kSkynetDiv); }).detach();
  long sum = 0;
  out.pop(sum);
  double ns = ns_since(start);
  check(sum == kSkynetSize * (kSkynetSize - 1) / 2, "skynet sum");
  return ns / 1e6;
}

double bench_blocked() {
  fibers::unbuffered_channel<int> gate;
  std::atomic<long> started{0}, finished{0};
  fibers::buffered_channel<int> all_done(2);
  auto before = rss_bytes();
  for (long i = 0; i < kBlockedCount; ++i) {
    spawn([&] {
      started.fetch_add(1, std::memory_order_relaxed);
      int v;
      gate.pop(v);  // blocks until close()
      if (finished.fetch_add(1) + 1 == kBlockedCount) all_done.push(1);
    }).detach();
  }
  while (started.load() < kBlockedCount) boost::this_fiber::yield();
  boost::this_fiber::yield();
  auto after = rss_bytes();
  gate.close();
  int v;
  all_done.pop(v);
  check(finished.load() == kBlockedCount, "all blocked fibers finished");
  return double(after - before) / kBlockedCount / 1024.0;
}

long fib_fork(long n) {
  if (n < kFibCutoff) return fib_seq(n);
  long a = 0;
  fibers::fiber child = spawn([&a, n] { a = fib_fork(n - 1); });
  long b = fib_fork(n - 2);
  child.join();
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
  int procs = figure_procs(name);
  double value = 0;
  const char* unit = "ns";
  bool known = true;
  with_procs(procs, [&] {
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
  });
  if (!known) {
    std::fprintf(stderr, "%s: unknown figure '%s'\n", argv[0], argv[1]);
    return 2;
  }
  report(name, value, unit);
  return 0;
}
