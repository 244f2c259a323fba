// Lab 03 — P: a logical processor, the right to run Go code.
//
// There are exactly Config::procs Ps (GOMAXPROCS). An M (thread) must hold a
// P to run goroutines; the P carries everything that makes scheduling cheap
// without locks: its local run queue, its runnext slot, its free list of dead
// Gs and its counters. Only the M that holds a P ("the owner") pushes onto
// its queue or touches its free list; other Ms may only *take* from the ring
// (work stealing), by CAS on runq_head.
//
// The local run queue is Go's 256-slot ring with free-running 32-bit indices:
// entries live at runq[i % 256] for head <= i < tail, so tail - head is the
// length even after the counters wrap. The owner stores tail with release
// after writing the slot; every consumer (owner or thief) reads the slot then
// CASes head forward, so each G is taken exactly once.
// runnext holds the G to run *next* (the one just made ready or just
// created); it inherits the current time slice (schedtick is not bumped).
#pragma once

#include <atomic>
#include <cstdint>

#include "gort/debug.hpp"

namespace gort::rt {

struct G;
struct M;
class RunqHead;

/// Test probe, null in normal runs: when set, every load of a ring's head
/// (RunqHead::load) calls it with that head and the value just read, before
/// the caller can use it. Graded tests use it to play a thief that takes a G
/// right between a consumer's load of the head and its claim (the CAS), so
/// a consumer that does not claim by CAS loses or duplicates a G every time.
inline std::atomic<void (*)(RunqHead& head, std::uint32_t loaded)> runq_head_probe{nullptr};

/// A ring's head index: a std::atomic<std::uint32_t> (same operations) whose
/// loads a test can observe through runq_head_probe. Costs one predictable
/// branch per load when no probe is set.
class RunqHead {
 public:
  std::uint32_t load(std::memory_order o = std::memory_order_seq_cst) noexcept {
    std::uint32_t h = v_.load(o);
    if (runq_head_probe.load(std::memory_order_relaxed) != nullptr) [[unlikely]] {
      return probed(h);
    }
    return h;
  }
  std::uint32_t load(std::memory_order o = std::memory_order_seq_cst) const noexcept {
    return const_cast<RunqHead*>(this)->load(o);
  }
  void store(std::uint32_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    v_.store(v, o);
  }
  bool compare_exchange_weak(std::uint32_t& expected, std::uint32_t desired,
                             std::memory_order success, std::memory_order failure) noexcept {
    return v_.compare_exchange_weak(expected, desired, success, failure);
  }
  bool compare_exchange_weak(std::uint32_t& expected, std::uint32_t desired,
                             std::memory_order o = std::memory_order_seq_cst) noexcept {
    return v_.compare_exchange_weak(expected, desired, o);
  }
  bool compare_exchange_strong(std::uint32_t& expected, std::uint32_t desired,
                               std::memory_order success, std::memory_order failure) noexcept {
    return v_.compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_strong(std::uint32_t& expected, std::uint32_t desired,
                               std::memory_order o = std::memory_order_seq_cst) noexcept {
    return v_.compare_exchange_strong(expected, desired, o);
  }
  std::uint32_t fetch_add(std::uint32_t n,
                          std::memory_order o = std::memory_order_seq_cst) noexcept {
    return v_.fetch_add(n, o);
  }
  /// The plain atomic, bypassing the probe (for the probe itself).
  std::atomic<std::uint32_t>& raw() noexcept { return v_; }

 private:
  /// Calls the probe with @p h and returns @p h. Out of line and cold, so the
  /// callers' fast paths (runq_put, runq_get) need no saved registers for it.
  [[gnu::cold, gnu::noinline]] std::uint32_t probed(std::uint32_t h) noexcept {
    if (auto probe = runq_head_probe.load(std::memory_order_relaxed)) probe(*this, h);
    return h;
  }

 private:
  std::atomic<std::uint32_t> v_{0};
};

/// Capacity of a P's local run queue (a power of two).
inline constexpr std::uint32_t kRunqSize = 256;

/// A logical processor.
struct alignas(64) P {
  int id = 0;                                  ///< index in sched.allp
  std::atomic<PStatus> status{PStatus::idle};  ///< idle (on sched.pidle) or running
  M* m = nullptr;                              ///< the M holding it
  P* link = nullptr;                           ///< next P on the idle list
  std::uint64_t schedtick = 0;                 ///< bumped by execute() unless inheriting
  std::uint32_t rand_state = 0;                ///< per-P fast random numbers

  // Dead Gs kept for reuse (owner only).
  G* gfree = nullptr;
  std::int32_t gfree_count = 0;

  // Goroutine ids handed out in batches (owner only).
  std::uint64_t goid_next = 0;
  std::uint64_t goid_end = 0;

  // Counters, written by the owner only (bump()), summed by debug::stats().
  std::atomic<std::uint64_t> n_created{0};
  std::atomic<std::uint64_t> n_exited{0};
  std::atomic<std::uint64_t> n_switches{0};
  std::atomic<std::uint64_t> n_steals{0};  ///< Gs this P stole

  // The local run queue.
  alignas(64) RunqHead runq_head;           ///< consumers CAS it
  std::atomic<std::uint32_t> runq_tail{0};  ///< only the owner stores it
  std::atomic<G*> runnext{nullptr};         ///< owner stores; thieves may CAS it away
  std::atomic<G*> runq[kRunqSize] = {};     ///< the ring

  // Lab 05: system calls and preemption.
  std::atomic<std::uint32_t> syscalltick{0};           ///< bumped at each entersyscall and retake
  std::atomic<bool> preempt{false};                    ///< sysmon asks its goroutine to yield
  std::atomic<std::uint64_t> n_syscalls{0};            ///< calls entered on it (owner: bump())
  std::atomic<std::uint64_t> n_syscall_fast_exits{0};  ///< calls that took it back (bump())
};

/// Adds one to a counter only its owner writes: a relaxed load and store
/// (no locked instruction), yet safe for other threads to read.
inline void bump(std::atomic<std::uint64_t>& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace gort::rt
