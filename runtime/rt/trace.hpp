// Seeing the scheduler (issue 11): the execution trace, Go's schedtrace
// line, and the count of scheduling decisions by cause.
//
// Execution trace (GORT_TRACE=path.json, or Config::trace): every
// goroutine state change the scheduler makes — creation, run, park (with
// its wait reason), ready, yield, exit — plus steals, timer fires, netpoll
// wake-ups, spinning, idle Ms, P hand-offs and system calls is recorded as
// a small binary event in a buffer owned by the thread that made it (one
// per M; no lock, no shared cache line on the hot path). When the run ends
// (teardown, after every M has stopped) the buffers are merged by time and
// written as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open: a track per M and per P showing which goroutine
// runs when, a track per goroutine showing its states, instant events for
// the rest, and flow arrows from each ready (or go) to the run it caused.
// docs/TRACING.md describes the tracks and how to read them.
//
// How it hooks in: cas_status (g.hpp) — the one function every G state
// transition of the scheduler goes through — calls status() first; the few
// places that set a status without it (the direct hand-off in switch_from,
// main's exit, expired timers, netpoll) call status(), timer_fire() or
// netpoll_ready() in one line. With tracing off each hook is one load of
// `enabled` and a branch that is never taken; the work is in the cold,
// out-of-line emit_*() functions.
//
// schedtrace (GORT_SCHEDTRACE=ms, GORT_SCHEDDETAIL=1): a thread of its own
// prints Go's `SCHED <t>ms: gomaxprocs=...` line every interval (Go prints
// it from sysmon; gort's sysmon is Lab 05's), and the detailed variant adds
// a line per P, M and G, as Go's scheddetail does.
//
// Decisions by cause (debug::Stats, the seed's four occasions for the
// scheduler to decide plus yield and preemption): count_stop() is called
// where a goroutine leaves its M (the schedule loop and the direct
// hand-off); it bumps a per-P counter indexed by the goroutine's wait reason.
#pragma once

#include <atomic>
#include <cstdint>

#include "gort/debug.hpp"
#include "rt/m.hpp"
#include "rt/p.hpp"

namespace gort {
struct Config;
}

namespace gort::rt {

struct G;

namespace trace {

/// True while the current run is traced. Read (relaxed) by every hook.
[[gnu::visibility("hidden")]] extern std::atomic<bool> enabled;

/// Why a G was made runnable (the "cause" of a ready event).
enum class ReadyCause : std::uint8_t { direct, timer, netpoll };

// ---- the cold halves (trace.cpp); call the inline hooks below instead ----
[[gnu::cold, gnu::noinline]] void emit_status(const G* gp, GStatus from, GStatus to) noexcept;
[[gnu::cold, gnu::noinline]] void emit_ready(const G* gp, ReadyCause cause) noexcept;
[[gnu::cold, gnu::noinline]] void emit_netpoll(const G* list) noexcept;
[[gnu::cold, gnu::noinline]] void emit_steal(const P* thief, const G* gp) noexcept;
[[gnu::cold, gnu::noinline]] void emit_spinning(bool on) noexcept;
[[gnu::cold, gnu::noinline]] void emit_m_idle(bool on) noexcept;
[[gnu::cold, gnu::noinline]] void emit_p(const P* p, const M* m, bool acquired) noexcept;

// ---- hooks: one predictable branch when tracing is off --------------------

/// @p gp moves from @p from to @p to (called by cas_status before its CAS,
/// and by the few places that store a status directly). Any thread.
inline void status(const G* gp, GStatus from, GStatus to) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_status(gp, from, to);
}
/// An expired timer makes the sleeping @p gp runnable (timers.cpp).
inline void timer_fire(const G* gp) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_ready(gp, ReadyCause::timer);
}
/// netpoll returned @p list (chained through schedlink, may be null): each
/// G on it was made runnable by the poller (idle.cpp).
inline void netpoll_ready(const G* list) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_netpoll(list);
}
/// steal_work gave @p thief the G @p gp (and maybe more, now in its ring).
/// Returns gp, so the call wraps the stolen G where it is used.
inline G* stolen(const P* thief, G* gp) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_steal(thief, gp);
  return gp;
}
/// The calling M starts (@p on) or stops looking for work to steal.
inline void spinning(bool on) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_spinning(on);
}
/// The calling M parks without a P (stopm) (@p on) or wakes up.
inline void m_idle(bool on) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_m_idle(on);
}
/// @p m acquires @p p (@p acquired) or @p p goes idle (m is then its last owner or null).
inline void p_owner(const P* p, const M* m, bool acquired) noexcept {
  if (enabled.load(std::memory_order_relaxed)) [[unlikely]]
    emit_p(p, m, acquired);
}

// ---- Lab 05 (system calls, preemption): called by rt/sysmon.cpp around the
// student's entersyscall/exitsyscall and in preempt_point. handoff() is not
// called: handoffp is the student's code, and the P's track already shows the
// M that takes it over. ----

/// The calling goroutine enters a possibly blocking system call.
void syscall_enter() noexcept;
/// The calling goroutine's system call returned.
void syscall_exit() noexcept;
/// @p p is handed to another M (handoffp) while its G is in a system call.
void handoff(const P* p) noexcept;
/// The running @p gp is preempted (its next status change is counted and
/// drawn as a preemption, not a yield).
void preempted(const G* gp) noexcept;

// ---- decisions by cause ---------------------------------------------------
//
// The hot path bumps one per-P counter indexed by the leaving goroutine's
// wait reason (set by park(), none for a yield or an exit): no comparison,
// no call. add_stats() folds the slots into causes; yields are the
// reason-less stops minus the exits (counted apart, P::n_exited).

/// Slots of the per-P counters: a WaitReason's value, or one of these.
enum Slot : int { kSlotPreempt = 14, kSlotSyscall = 15, kSlots = 16 };
static_assert(static_cast<int>(WaitReason::preempted) < kSlotPreempt);

/// One P's counters (owner-written, bump()), and its GORT_SEED generator.
struct alignas(64) CauseCounts {
  std::atomic<std::uint64_t> n[kSlots] = {};
  std::uint64_t rng = 0;  ///< GORT_SEED's per-P random state (owner only)
};
/// gomaxprocs of them while a run is booted, else null (boot()/teardown()).
[[gnu::visibility("hidden")]] extern CauseCounts* cause_counts;

/// A goroutine leaves its M on @p p (which may be null in Lab 05's
/// exitsyscall path) with wait reason @p r (none: a yield or an exit).
/// The owner of p only.
inline void count_stop(const P* p, WaitReason r) noexcept {
  if (p == nullptr) [[unlikely]]
    return;
  bump(cause_counts[p->id].n[static_cast<std::uint8_t>(r)]);
}

// ---- GORT_SEED: reproducible perturbed schedules ---------------------------

/// True while the run was started with GORT_SEED=n (n > 0).
[[gnu::visibility("hidden")]] extern bool seeded;

[[gnu::cold, gnu::noinline]] G* perturb_pick_slow(P* p, G* gp, bool* inherit_time);

/// next_local_g just picked @p gp for @p p (owner only). With GORT_SEED, one
/// pick in four is changed within what Go's rules allow: the G goes to the
/// tail of the local ring and the next G is taken afresh (it may be gp
/// again); the choice comes from a per-P generator seeded by n and the P's
/// index, so on one P the same seed gives the same schedule. Returns the G
/// to run (null only if gp was).
inline G* perturb_pick(P* p, G* gp, bool* inherit_time) {
  if (seeded) [[unlikely]]
    return perturb_pick_slow(p, gp, inherit_time);
  return gp;
}

// ---- the run's lifecycle (proc.cpp) ----------------------------------------

/// Boot of a run with @p procs Ps: allocates the cause counters; reads
/// Config::trace / GORT_TRACE (opens the file: throws std::runtime_error
/// naming it if it cannot), GORT_SCHEDTRACE / GORT_SCHEDDETAIL and GORT_SEED
/// (throws std::invalid_argument on a malformed value) and starts what they
/// ask for.
/// The booting thread, under sched.debug_lock.
void boot(const Config& cfg, int procs);

/// End of a run, once every M has stopped and before anything is freed:
/// stops schedtrace, writes the trace file. Never throws (a write error is
/// reported on stderr). The booting thread.
void end_run() noexcept;

/// The process is about to exit (a fatal error, a panic, the deadlock
/// report): writes the trace as it stands so the run that failed can be
/// looked at. Other Ms may still be running (their last events may be
/// missing). Any thread; never throws.
void exit_now() noexcept;

/// Adds this run's counters to @p s. Caller holds sched.debug_lock.
void add_stats(debug::Stats& s) noexcept;

/// Frees the cause counters (after the last collect_stats). Caller holds
/// sched.debug_lock.
void teardown() noexcept;

/// schedtrace reports printed by the GORT_SCHEDTRACE thread since the process
/// started (tests wait for it instead of sleeping a fixed time).
inline std::atomic<std::uint64_t> schedtrace_reports{0};

/// Writes one schedtrace report (Go's format; @p detailed adds the P, M and
/// G lines) to file descriptor @p fd. Takes sched.lock; a run must be
/// booted. Any thread but one holding sched.lock.
void schedtrace(int fd, bool detailed) noexcept;

}  // namespace trace
}  // namespace gort::rt
