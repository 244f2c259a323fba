// Helpers shared by the Lab 06 grader tests: fake goroutines that never run,
// standalone Ps, and the global scheduler state the spinning tests set by
// hand (no runtime is running in those tests).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/steal.hpp"

namespace lab06 {

using namespace gort::rt;

/// Fake goroutines with ids 1..n (index i has id i + 1); they never run.
struct Gs {
  explicit Gs(int n) : n(n), g(new G[static_cast<std::size_t>(n)]) {
    for (int i = 0; i < n; ++i) g[i].id = static_cast<std::uint64_t>(i + 1);
  }
  G* operator[](int i) { return &g[i]; }
  int n;
  std::unique_ptr<G[]> g;
};

/// Puts gs[from..to) on @p p's ring (not next).
inline void put_range(P* p, Gs& gs, int from, int to) {
  for (int i = from; i < to; ++i) runq_put(p, gs[i], false);
}

/// Takes everything from @p p's ring and runnext with runq_get: ids in order.
inline std::vector<std::uint64_t> drain(P* p) {
  std::vector<std::uint64_t> v;
  bool inherit = false;
  while (G* g = runq_get(p, &inherit)) {
    v.push_back(g->id);
    if (v.size() > 2000) break;  // a broken ring that never empties
  }
  return v;
}

/// Ids first..last.
inline std::vector<std::uint64_t> iota_ids(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = first; i <= last; ++i) v.push_back(i);
  return v;
}

/// "[1, 2, 3]" (long lists shortened to their ends).
inline std::string str(const std::vector<std::uint64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v.size() > 12 && i == 5) {
      s += "..., ";
      i = v.size() - 5;
    }
    s += std::to_string(v[i]);
    if (i + 1 < v.size()) s += ", ";
  }
  return s + "]";
}

/// Moves a P's free-running indices to @p at (an empty ring), so a test's
/// batch crosses the end of the array (index 255 -> 0).
inline void place_indices(P* p, std::uint32_t at) {
  p->runq_head.store(at);
  p->runq_tail.store(at);
}

/// Sets the scheduler fields the spinning functions read, and restores
/// them at the end of the test (no runtime runs in these tests).
struct FakeSched {
  FakeSched(int procs, int idle, int spinning) {
    sched.gomaxprocs = procs;
    sched.npidle.store(idle);
    sched.nmspinning.store(spinning);
  }
  ~FakeSched() {
    sched.gomaxprocs = 0;
    sched.npidle.store(0);
    sched.nmspinning.store(0);
  }
};

/// Empties the global queue at both ends of a test that may overflow a ring.
struct CleanGlobalQueue {
  CleanGlobalQueue() { clear(); }
  ~CleanGlobalQueue() { clear(); }
  static void clear() {
    std::lock_guard<gort::os::FutexMutex> lk(sched.lock);
    sched.runq_head = sched.runq_tail = nullptr;
    sched.runq_size.store(0);
  }
};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace lab06
