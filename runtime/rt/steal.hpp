// Lab 06 — work stealing: the functions of the student's steal.cpp
// (labs/06-work-stealing/steal.cpp), their contracts, and the provided
// helpers they use.
//
// An M whose P has nothing to run (own runnext and ring empty, global queue
// empty, no I/O ready) becomes a *spinning* M, if the limit allows, and
// steals: it takes half of another P's ring in one go (runq_grab /
// runq_steal), visiting every P in a random order (steal_work). The spinning
// protocol bounds how many Ms search at once and makes sure that work is
// never left behind when the last of them gives up; its pieces are split
// between steal.cpp (begin_spinning, reset_spinning) and the provided
// find_runnable in idle.cpp (the final re-check of every queue, parking).
#pragma once

#include <atomic>
#include <cstdint>

#include "rt/g.hpp"
#include "rt/m.hpp"
#include "rt/p.hpp"
#include "rt/sched.hpp"

namespace gort::rt {

// ---- Task 1: grabbing half of a victim's ring ------------------------------

/// Go's runqgrab. Takes n - n/2 Gs (half, rounded up) from the HEAD of
/// @p victim's ring, where n is the ring's length, and writes them in order
/// into @p batch[(batch_head + i) % kRunqSize] for i < count; returns count.
/// The Gs are claimed by ONE compare-and-swap of victim->runq_head from h to
/// h + count: if it fails (the owner or another thief took some first),
/// nothing is claimed and the grab starts again from a fresh head and tail.
/// A half above kRunqSize / 2 means head and tail were read at different
/// moments (tail is only ever ahead of head by kRunqSize): retry.
/// With @p steal_runnext, and only when the ring is empty, the victim's
/// runnext G is taken (count 1) — but first, if the victim is running, its
/// owner gets a moment to run it itself (steal_runnext_pause), and the G is
/// taken only by CAS on runnext from the value read before the pause.
/// Any M; never blocks (the pause is a few microseconds).
std::uint32_t runq_grab(P* victim, std::atomic<G*>* batch, std::uint32_t batch_head,
                        bool steal_runnext);

/// Go's runqsteal. Grabs from @p victim into @p p's own ring at its tail
/// (runq_grab with batch = p->runq, batch_head = p->runq_tail) and returns
/// the LAST G grabbed, to run now; the others become visible in p's ring by
/// one release store of p->runq_tail. nullptr if nothing was taken. Only
/// @p p's owner, whose ring is empty; never blocks.
G* runq_steal(P* p, P* victim, bool steal_runnext);

// ---- Task 2: the search ----------------------------------------------------

/// The Lab 06 hook (rt/hooks.hpp), Go's stealWork: kStealTries passes over
/// every P but @p p, each pass in a fresh random order that visits every P
/// exactly once (steal_order()); the last pass also takes runnext Gs. Before
/// each pass, runs the expired timers (check_timers) and returns a G they
/// made ready on @p p. Returns a G to run (others stolen are in p's ring) or
/// nullptr. Called by find_runnable on @p p's owner, a spinning M.
G* steal_work(P* p);

/// Passes of steal_work over all Ps (Go's stealTries).
inline constexpr int kStealTries = 4;

/// Go's randomOrder: for count Ps, the numbers coprime to count. A walk that
/// starts at any position and steps by a coprime stride visits each of
/// 0..count-1 exactly once (the stride generates the additive group mod
/// count). Provided (filled at boot for gomaxprocs); steal_work walks it:
/// from a random r, start at r % count and step by
/// coprimes[(r / count) % ncoprimes], count times.
struct RandomOrder {
  std::uint32_t count = 0;                 ///< number of Ps
  std::uint32_t ncoprimes = 0;             ///< entries used in coprimes
  std::uint32_t coprimes[kMaxProcs] = {};  ///< 1 <= c <= count with gcd(c, count) == 1
  /// Fills the table for @p n Ps (1 <= n <= kMaxProcs).
  void reset(std::uint32_t n) noexcept;
};

/// The current run's order table. Any M, while a run is booted.
const RandomOrder& steal_order() noexcept;

// ---- Task 3: the spinning limit --------------------------------------------

/// Called by find_runnable when @p m (holding a P, nothing local to run)
/// would like to search other Ps. If m is already spinning, returns true.
/// Otherwise m may become spinning only while fewer than half of the busy
/// Ps' Ms are spinning: 2 * nmspinning < gomaxprocs - npidle. Then it sets
/// m->spinning and increments sched.nmspinning (without ever exceeding the
/// limit, even when several Ms decide at once: compare-and-swap) and returns
/// true; else returns false (m then gives up its P without searching).
bool begin_spinning(M* m);

/// Called when the spinning @p m found work (Go's resetspinning): m stops
/// spinning (m->spinning = false, sched.nmspinning decremented). Returns true
/// if m was the LAST spinning M: the caller must then wakep(), so the search
/// goes on — work comes in bursts, and producers that saw a spinner did not
/// wake anyone. Returns false if m was not spinning.
bool reset_spinning(M* m);

/// Called by find_runnable after an M gave up its P and stopped spinning,
/// before it sleeps (Go's checkRunqsNoP): true if some G is runnable that
/// this M could take — on the global queue, in any P's ring, or in any P's
/// runnext (which steal_work takes on its last pass, so a runnext G of a P
/// whose goroutine never yields would otherwise be stranded). A producer
/// that saw a spinner did not wake anyone; this re-check is what covers it.
/// Racy reads only; any M, without a P.
bool check_runqs();

// ---- provided --------------------------------------------------------------

/// Test probe, null in normal runs: called by steal_runnext_pause with the
/// victim, while a thief waits before taking its runnext. A graded test
/// plays the victim's owner there (takes runnext itself), so a thief that
/// does not wait — or takes runnext without a CAS — is caught on every run.
inline std::atomic<void (*)(P* victim)> steal_runnext_probe{nullptr};

/// Gives @p victim's owner a moment to run its runnext G before a thief
/// takes it: about 3 microseconds (Go's usleep(3)) if the victim is running;
/// then the test probe. Any M.
void steal_runnext_pause(P* victim) noexcept;

/// Lab 06's counters (debug::Stats: steal_attempts, steal_batches,
/// spinning_peak, spinner_wakeups; steals is summed from the Ps), kept by the
/// provided find_runnable around the student's functions, so they count what
/// really happened whatever the student's code does.
struct StealStats {
  std::atomic<std::uint64_t> attempts{0};         ///< steal_work calls
  std::atomic<std::uint64_t> batches{0};          ///< steal_work calls that found a G
  std::atomic<std::int32_t> spinning_peak{0};     ///< most Ms spinning at once
  std::atomic<std::uint64_t> spinner_wakeups{0};  ///< Ms started by a spinner that found work
};
extern StealStats steal_stats;

/// Boot of a run with @p procs Ps (proc.cpp): zeroes steal_stats, fills the
/// order table. Before any M but m0 exists.
void steal_reset(int procs) noexcept;

/// Records sched.nmspinning in steal_stats.spinning_peak (after an increment).
void note_spinning() noexcept;

}  // namespace gort::rt
