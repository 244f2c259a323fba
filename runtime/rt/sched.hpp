// Lab 03 — the scheduler: global state and the functions that move Gs
// between queues, Ms and Ps.
//
// The pieces (Go's names in parentheses):
//   * Sched (schedt): the global run queue, the idle P and idle M lists,
//     the number of spinning Ms, every P and M. One lock, sched.lock
//     (a Lab 01 FutexMutex), protects the lists; the hot paths (local run
//     queues, runnext, free lists) never take it.
//   * The schedule loop (schedule_loop, provided in proc.cpp)
//     runs on each M's g0: find a runnable G, switch to it, and when the G
//     switches back run what it asked for (park_m, gosched_m, goexit_m) —
//     so every switch is G → g0 → G'. (With kDirectHandoff, an optional
//     optimization the solution uses, park/yield/exit switch G → G' directly
//     when this P has a G ready: switch_from.)
//   * find_runnable (provided, idle.cpp) follows Go's order: expired timers,
//     the student's find_runnable_fast (1/61 global check, runnext/local,
//     global batch) behind next_local_g (the 10 ms bound on a runnext chain),
//     netpoll (Lab 04 hook), stealing (Lab 06 hook), and finally the P is
//     dropped and the M parks on its Note (stopm). A timer armed earlier than
//     every other wakes an idle M (wake_for_timer), as Go's wakeNetPoller.
//
// Lock order (never take one to the left while holding one to its right):
//   sched.debug_lock → sched.lock → allg_lock. A channel's lock and the timer
//   heap's lock are leaves: nothing else is taken under them — a channel
//   operation or a timer releases its lock before it calls ready() or wakep(),
//   which may take sched.lock.
//
// Student tasks in sched.cpp (Lab 03, task 2): find_runnable_fast, execute,
// park/park_m, ready, gosched/gosched_m, new_proc, goexit_m and the per-P G
// free list (gfput/gfget).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "os/futex_mutex.hpp"
#include "os/sys.hpp"
#include "rt/g.hpp"
#include "rt/m.hpp"
#include "rt/p.hpp"

namespace gort::rt {

/// Every 61st schedule tick the global queue is looked at first (fairness).
inline constexpr std::uint64_t kGlobalCheckTicks = 61;
/// A P keeps at most this many dead Gs; above it, half go to the global free list.
inline constexpr std::int32_t kGfreeMax = 64;

/// The most Ps a run may have (Config::procs and GORT_PROCS above it are refused).
inline constexpr int kMaxProcs = 1024;

// ---- the time-slice bound on runnext (no preemption before Lab 05) --------
//
// A G taken from runnext inherits the current time slice (schedtick is not
// bumped), so a pair of goroutines that keep readying each other through
// runnext — a ping-pong over an unbuffered channel — would keep the P
// forever: the Gs in the ring and on the global queue behind it never run.
// Go ends such a slice from sysmon after 10 ms (preemption, Lab 05); Go
// without sysmon does not use runnext at all. gort bounds the slice where the
// next G is picked (next_local_g): it counts the inherited picks since the P
// last ran a G with a fresh slice, and at every kSliceCheckEvery-th one reads
// the clock. The clock starts at the first of those readings; once a later
// one finds kSliceNs elapsed, the inheritance is refused: the runnext G goes
// to the tail of the local ring, and the next G is taken afresh (ring head,
// or the global queue on the 61st tick) with a new slice — schedtick is
// bumped. A short chain of hand-offs (fewer than 2 * kSliceCheckEvery picks)
// is never cut, so the exact orders of Lab 03's tests do not depend on time,
// and the hand-off path reads no clock on 63 picks out of 64.

/// How long a chain of runnext hand-offs may keep its P (Go's sysmon: 10 ms).
inline constexpr std::int64_t kSliceNs = 10'000'000;
/// The clock is read on every kSliceCheckEvery-th inherited pick (a power of two).
inline constexpr std::uint32_t kSliceCheckEvery = 64;

/// Per-P state of the time-slice bound (sched.slices[p->id]; owner only).
struct alignas(64) SliceClock {
  std::uint32_t inherited = 0;  ///< inherited picks since the last fresh slice
  std::int64_t start = 0;       ///< clock at the kSliceCheckEvery-th of them
};

/// An append-only list of T* whose entries never move (Go's allm/allgs):
/// chunk k holds kFirst << k entries and is never reallocated, so the hang
/// dump — a signal handler, which may interrupt a push — can read it with no
/// lock: load size() (acquire), then at(i) for i < size(). Writers push under
/// their own lock (one writer at a time). reset() empties it and frees the
/// chunks; only teardown calls it, once nothing runs.
template <class T>
class StableList {
 public:
  StableList() = default;
  StableList(const StableList&) = delete;
  StableList& operator=(const StableList&) = delete;
  ~StableList() { reset(); }

  /// Number of published entries. Any thread, signal handlers included.
  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  /// Entry @p i (< size()). Any thread, signal handlers included.
  T* at(std::size_t i) const noexcept {
    std::size_t j = i + kFirst;
    int k = static_cast<int>(std::bit_width(j)) - 1 - kFirstLog;
    T** c = chunks_[k].load(std::memory_order_acquire);
    return c[j - (kFirst << k)];
  }
  /// Makes room for one more entry, so that the next push_back cannot fail.
  /// Throws std::bad_alloc. Callers serialise it with pushes (their lock).
  void reserve_next() { slot(size_.load(std::memory_order_relaxed)); }
  /// Appends @p x (allocating a chunk when needed: may throw std::bad_alloc,
  /// leaving the list unchanged; never after reserve_next). Callers
  /// serialise pushes with their lock.
  void push_back(T* x) {
    std::size_t i = size_.load(std::memory_order_relaxed);
    *slot(i) = x;
    size_.store(i + 1, std::memory_order_release);  // publishes the entry
  }
  /// Empties the list and frees its chunks. Nothing may read or push meanwhile.
  void reset() noexcept {
    size_.store(0, std::memory_order_release);
    for (auto& c : chunks_) delete[] c.exchange(nullptr, std::memory_order_acq_rel);
  }

 private:
  /// Where entry @p i goes, allocating its chunk if needed (writers only).
  T** slot(std::size_t i) {
    std::size_t j = i + kFirst;
    int k = static_cast<int>(std::bit_width(j)) - 1 - kFirstLog;
    T** c = chunks_[k].load(std::memory_order_relaxed);
    if (c == nullptr) {
      c = new T*[kFirst << k];
      chunks_[k].store(c, std::memory_order_release);
    }
    return &c[j - (kFirst << k)];
  }

  static constexpr int kFirstLog = 6;
  static constexpr std::size_t kFirst = std::size_t{1} << kFirstLog;  // entries in chunk 0
  static constexpr int kChunks = 48;  // 64 * (2^48 - 1) entries: never the limit
  std::atomic<std::size_t> size_{0};
  std::atomic<T**> chunks_[kChunks] = {};
};

/// Global scheduler state. One instance, `sched`; reset by every gort::run.
struct Sched {
  os::FutexMutex lock;  ///< protects everything below marked (L)

  // Global run queue (L). runq_size is also read without the lock as a hint.
  G* runq_head = nullptr;
  G* runq_tail = nullptr;
  std::atomic<std::int32_t> runq_size{0};

  // Global free list of dead Gs (L).
  G* gfree = nullptr;
  std::atomic<std::int32_t> gfree_count{0};  ///< also read without the lock as a hint

  // Idle Ps (L) and their count (read without the lock as a hint).
  P* pidle = nullptr;
  std::atomic<std::int32_t> npidle{0};

  // Idle Ms (L).
  M* midle = nullptr;
  std::int32_t nmidle = 0;
  std::atomic<std::int32_t> nmspinning{0};  ///< Ms looking for work while holding a P

  int gomaxprocs = 0;            ///< number of Ps
  P* allp = nullptr;             ///< array of gomaxprocs Ps
  SliceClock* slices = nullptr;  ///< the time-slice bound's state, one per P
  StableList<M> allm;            ///< every M, m0 first (pushed under L; read lock-free)
  std::size_t stack_size = 0;    ///< usable bytes of each goroutine stack

  std::atomic<std::uint64_t> goidgen{0};  ///< last goroutine id handed out (in batches)
  std::atomic<bool> running{false};       ///< inside gort::run
  std::atomic<bool> exiting{false};       ///< main returned: every M leaves its loop
  /// The main goroutine has started (Go's mainStarted): until then wakep
  /// starts no M, so none steals main from m0's runnext during the boot.
  std::atomic<bool> main_started{false};
  int main_result = 0;

  // Every G ever created by this run (for dumps and the deadlock report):
  // pushed under allg_lock, read lock-free by the hang dump.
  os::FutexMutex allg_lock;
  StableList<G> allgs;

  /// True while a booted run's allp, allm and allgs may be read by
  /// debug::dump(); teardown clears it, then waits for `dumpers` to drain
  /// before freeing anything (the dump is a signal handler: no lock).
  std::atomic<bool> dumpable{false};
  std::atomic<int> dumpers{0};  ///< dumps in progress

  /// Serialises debug::stats() and debug::snapshot(), which any thread may
  /// call at any time, with the boot and the teardown of run() (which create
  /// and free allp, allm, allgs). Taken before sched.lock, never under it.
  os::FutexMutex debug_lock;

  // Counters not kept per P.
  std::atomic<std::uint64_t> n_threads{0};
  std::atomic<std::uint64_t> n_global_puts{0};
  std::atomic<std::uint64_t> n_handoffs{0};  ///< Lab 05's handoffp counts here; 0 before
  std::atomic<std::uint64_t> n_netpoll_wakeups{0};
  std::atomic<std::uint64_t> n_timer_wakeups{0};  ///< wake_for_timer started an idle M
  std::atomic<std::uint64_t> n_slice_ends{0};     ///< runnext chains cut by the slice bound

  // ---- Lab 05: system calls and sysmon (rt/sysmon.hpp) ----
  // (calls and fast exits are counted per P: P::n_syscalls, P::n_syscall_fast_exits)
  std::atomic<std::uint64_t> n_retakes{0};        ///< Ps sysmon took from a call
  std::atomic<std::uint64_t> n_preemptions{0};    ///< yields sysmon asked for, honoured
  std::atomic<std::uint64_t> n_sysmon_rounds{0};  ///< sysmon_tick calls
  int max_threads = 0;  ///< OS threads allowed (Ms + sysmon): Config::max_threads
};

/// The scheduler's global state.
extern Sched sched;

// ---- where am I? (provided; never inlined: a goroutine may resume on
// another thread, so a thread-local address must not be cached across a
// switch) --------------------------------------------------------------------

/// The M the calling code runs on; nullptr outside the runtime's threads.
[[gnu::noinline]] M* current_m() noexcept;
/// The G running on the calling thread; nullptr on g0 or outside the runtime.
[[gnu::noinline]] G* current_g() noexcept;
/// The P held by the calling thread's M; nullptr if none.
[[gnu::noinline]] P* current_p() noexcept;
/// Sets the calling thread's M (provided code only).
[[gnu::noinline]] void set_current_m(M* m) noexcept;

// ---- student: sched.cpp (Lab 03, task 2) ----------------------------------

/// The cheap part of find_runnable, on g0 of @p p's owner: every
/// kGlobalCheckTicks-th tick (p->schedtick % 61 == 0) one G from the global
/// queue first, so it cannot starve; then runq_get (runnext, ring); then a
/// batch from the global queue. Returns nullptr if all are empty; sets
/// *inherit_time as runq_get does (false for global Gs).
G* find_runnable_fast(P* p, bool* inherit_time);

/// Runs @p gp on @p m (on m's g0): runnable → running, bumps the P's
/// schedtick unless @p inherit_time, and switches to it.
/// Returns when gp switches back to g0 (mcall); m->curg is still gp then.
void execute(M* m, G* gp, bool inherit_time);

/// Parks the calling goroutine with @p reason: switches to g0, which marks
/// it waiting and then calls unlockf(gp, arg) (if not null) — *after* gp's
/// context is saved, so a waker that sees gp on a wait queue can never
/// resume a half-saved G. If unlockf returns false, gp resumes at once.
/// Returns when someone calls ready(gp). Goroutines only.
void park(bool (*unlockf)(G* gp, void* arg), void* arg, WaitReason reason);

/// g0 half of park (an AfterSwitch).
G* park_m(M* m, G* gp);

/// Makes the waiting @p gp runnable: waiting → runnable, into the current
/// P's runnext (it runs next), then wakep(). Call from a goroutine or g0 of
/// an M holding a P; never blocks. Readying a G that is not waiting is a bug
/// (fatal error).
void ready(G* gp);

/// Puts the calling goroutine at the tail of its P's run queue and runs
/// something else (gort::yield). Goroutines only.
void gosched();

/// g0 half of gosched (an AfterSwitch).
G* gosched_m(M* m, G* gp);

/// Starts the prepared @p gp (stack, entry and closure already set by
/// go_reserve/go_commit): gives it a fresh context whose entry is
/// goroutine_main, makes it runnable in the current P's runnext and wakes an
/// idle P (wakep). Called on a goroutine or on the booting thread.
void new_proc(G* gp);

/// g0 half of goroutine exit (an AfterSwitch): running → dead (the exit is
/// already counted by goroutine_main), puts gp on its P's free list (gfput).
/// Returns nullptr.
G* goexit_m(M* m, G* gp);

/// True if park/gosched/goroutine exit may switch directly to the next G
/// (switch_from) instead of going through g0 (mcall). Defined in sched.cpp:
/// false in the starter (every switch goes G → g0 → G'); an optional
/// challenge, and true in the optimized solution.
extern const bool kDirectHandoff;

/// Puts the dead @p gp on @p p's free list; above kGfreeMax, moves half of
/// the list to the global free list (under sched.lock).
void gfput(P* p, G* gp);

/// Takes a dead G (with its stack) from @p p's free list, refilling it from
/// the global free list when empty. Returns nullptr if there is none.
G* gfget(P* p);

// ---- provided: proc.cpp, idle.cpp -----------------------------------------

/// Switches from the running goroutine to its M's g0 and has g0 call
/// @p after(m, gp) (Go's mcall). Returns when gp is resumed.
void mcall(AfterSwitch after) noexcept;

/// The schedule loop, on g0 of @p m (which holds a P): find_runnable,
/// execute, run the goroutine's AfterSwitch request, repeat — until the
/// runtime exits.
void schedule_loop(M* m);

/// Body of every M's thread but m0: take m->nextp, run schedule_loop.
void mstart(M* m);

/// Like mcall(after), but when find_runnable_fast has a G ready on this P,
/// switches to it directly (one switch instead of two) and that G runs
/// after(m, gp) first thing on resumption — still after gp is off its
/// stack, so the park protocol is unchanged. Falls back to mcall when there
/// is no local work, or the runtime is exiting. Goroutines only.
void switch_from(AfterSwitch after);

/// Runs the pending hand-off request left by the G that switched to the
/// calling one (see switch_from). Called right after every resumption.
void finish_switch(M* m);

/// The context every goroutine starts in: runs gp->entry(gp->closure),
/// turns an escaping exception into a panic, then exits the goroutine.
[[noreturn]] void goroutine_main(void* gp) noexcept;

/// The blocking part of the scheduler, on g0: find_runnable_fast, timers,
/// netpoll, steal, then drop the P and park the M until there is work.
/// Returns a G to run (m->p set) or nullptr when the runtime is exiting.
G* find_runnable(M* m, bool* inherit_time);

/// If there is an idle P and no M is spinning, starts an M (spinning) to
/// look for the work just made available. Cheap when there is nothing to do.
void wakep();

/// find_runnable_fast with the time-slice bound (see SliceClock above): the
/// G that @p p's owner runs next from its local queues or the global queue,
/// or nullptr. *inherit_time is true only for a runnext G allowed to share
/// the current slice. Owner only (g0, or a goroutine in switch_from).
G* next_local_g(P* p, bool* inherit_time);

/// Called by the provided code each time @p p runs a G: a G that does not
/// inherit (@p inherit_time false) starts a fresh slice.
inline void slice_note_run(P* p, bool inherit_time) noexcept {
  if (!inherit_time) sched.slices[p->id].inherited = 0;
}

/// A timer was just armed with a deadline earlier than every other
/// (timers.cpp): an M parked in stopm may be sleeping until a later
/// deadline — or without one — and would oversleep it. Like Go's
/// wakeNetPoller: if a P is idle and no M is spinning, start an M (wakep),
/// which, finding nothing to run, parks again until the new earliest timer.
/// Any thread with a P; never blocks but on sched.lock.
void wake_for_timer();

// ---- provided for Lab 05 (idle.cpp): the lists entersyscall, exitsyscall
// and handoffp move Ps and Ms through --------------------------------------

/// Makes @p m hold @p p: m->p, p->m, status running (and wakes a deep-
/// sleeping sysmon). @p p must be held by nobody.
void acquirep(M* m, P* p);
/// Puts @p p on the idle-P list (status idle, no M). Caller holds sched.lock.
void pidle_put(P* p);
/// Takes a P from the idle-P list, nullptr if none. Caller holds sched.lock.
P* pidle_get();
/// Parks @p m (holding no P) on the idle-M list until startm hands it a P
/// or the runtime exits; may report a deadlock first (checkdead). On return
/// m->p is set, or sched.exiting is true. Caller holds no lock; on g0.
void stopm(M* m);

/// Starts an M (an idle one, or a new thread) holding @p p (an idle P if
/// null); if no P is idle, does nothing (undoing the spinning count if
/// @p spinning). Takes sched.lock.
void startm(P* p, bool spinning);

/// A fresh goroutine id for a G created on @p p.
std::uint64_t new_goid(P* p) noexcept;

/// Releases what a dead G's old context holds (sanitizer state) before it is
/// made again; provided.
void reset_context(G* gp) noexcept;

/// Fast per-P random number (xorshift).
std::uint32_t fastrand(std::uint32_t& state) noexcept;

/// Formats "goroutine N [wait reason or state]:\n" for @p gp into @p buf, as
/// the deadlock report and the hang dump print it; returns false, writing
/// nothing, for a dead or idle G. No locks, no allocation (signal-safe).
bool format_goroutine_header(const G* gp, char* buf, std::size_t size) noexcept;
/// The runtime's one stderr writer (os/sys.hpp): no locks, no allocation, so
/// the panic, fatal-error, deadlock and hang-dump paths use it.
using os::write_all;
/// Prints "fatal error: <msg>" and the goroutine list; exits with code 2.
[[noreturn]] void fatal(const char* msg) noexcept;
/// Prints "panic: <msg>", "goroutine N [running]:"; exits with code 2.
[[noreturn]] void panic(const char* msg) noexcept;

/// Counters of the last finished gort::run (debug::stats() after run).
/// Caller holds sched.debug_lock.
debug::Stats last_run_stats() noexcept;
/// debug::stats() without the lock: the current run's counters, or
/// last_run_stats() when no run is booted. Caller holds sched.debug_lock.
debug::Stats collect_stats() noexcept;

/// Monotonic clock in nanoseconds.
std::int64_t nanotime() noexcept;

}  // namespace gort::rt
