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
  alignas(64) std::atomic<std::uint32_t> runq_head{0};  ///< consumers CAS it
  std::atomic<std::uint32_t> runq_tail{0};              ///< only the owner stores it
  std::atomic<G*> runnext{nullptr};                     ///< owner stores; thieves may CAS it away
  std::atomic<G*> runq[kRunqSize] = {};                 ///< the ring
};

/// Adds one to a counter only its owner writes: a relaxed load and store
/// (no locked instruction), yet safe for other threads to read.
inline void bump(std::atomic<std::uint64_t>& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace gort::rt
