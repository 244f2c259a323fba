// gort::debug — looking inside the running scheduler (provided with Lab 03;
// runtime/rt/debug.cpp).
//
// Three uses: programs and tests ask which goroutine / P they run on;
// stats() counts what the scheduler did (benchmarks and later labs' tests
// read it: context switches, steals, P hand-offs, netpoll wake-ups);
// snapshot() copies the state of every G, P and M for dumps and for the
// diagram generator (docs/diagrams). The same state is what the grader
// prints when a test hangs (gort_grader_dump_state) and what the deadlock
// report lists.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gort {

/// A goroutine's state, Go's state machine (runtime2.go's _Gidle.._Gdead):
/// idle → dead → runnable ⇄ running → waiting → runnable …, running → dead.
enum class GStatus : std::uint8_t {
  idle,      ///< just allocated, never initialised
  runnable,  ///< on a run queue (or in runnext), not running
  running,   ///< running on an M that holds a P
  syscall,   ///< in a blocking system call (Lab 05)
  waiting,   ///< parked: blocked in the runtime (channel, sleep, lock, I/O)
  dead,      ///< finished; the G sits on a free list for reuse
};

/// Why a waiting goroutine is parked (printed as Go prints it).
enum class WaitReason : std::uint8_t {
  none,
  chan_receive,  ///< "chan receive"
  chan_send,     ///< "chan send"
  sleep,         ///< "sleep"
  wait_group,    ///< "sync.WaitGroup.Wait"
  mutex,         ///< "sync.Mutex.Lock"
  io_wait,       ///< "IO wait" (Lab 04)
  select,        ///< "select" (gort::select)
  preempted,     ///< "preempted" (reserved, Lab 05)
  /// "select (no cases)": gort::select() with no case, parked forever
  select_no_cases,
};

/// A P's status (Go's _Pidle, _Prunning, _Psyscall, _Pdead).
enum class PStatus : std::uint8_t { idle, running, syscall, dead };

/// "runnable", "waiting", ... as Go prints them.
const char* to_string(GStatus s) noexcept;
/// "chan receive", "sleep", ... as Go prints them ("" for none).
const char* to_string(WaitReason r) noexcept;
/// "idle", "running", "syscall", "dead".
const char* to_string(PStatus s) noexcept;

namespace debug {

/// The id of the calling goroutine (1 is main); 0 when not in a goroutine.
std::uint64_t goroutine_id() noexcept;

/// The index (0 .. procs-1) of the P the calling goroutine runs on; -1 when
/// not in a goroutine. It can change after any call that may block or yield.
int current_p() noexcept;

/// Counters since the current (or last) gort::run started. Cheap; racy
/// while the runtime runs (each counter is exact once run() returned).
struct Stats {
  std::uint64_t goroutines_created = 0;  ///< go() calls, plus main
  std::uint64_t goroutines_live = 0;     ///< created and not yet finished
  std::uint64_t context_switches = 0;    ///< times a G was switched to
  std::uint64_t steals = 0;              ///< Gs taken from another P's queue
  std::uint64_t handoffs = 0;            ///< Ps handed off around a syscall (Lab 05)
  std::uint64_t netpoll_wakeups = 0;     ///< Gs readied by the netpoller (Lab 04)
  std::uint64_t threads = 0;             ///< Ms (OS threads) created
  std::uint64_t global_runq_puts = 0;    ///< Gs put on the global run queue
  /// Idle Ms started because a goroutine began to sleep with a deadline
  /// earlier than every other sleeper's (Go's wakeNetPoller)
  std::uint64_t timer_wakeups = 0;
  /// Chains of runnext hand-offs (e.g. a channel ping-pong) made to give up
  /// their P after sharing one time slice for about 10 ms
  std::uint64_t slices_ended = 0;
  // ---- Lab 05: system calls and sysmon ----
  std::uint64_t syscalls = 0;            ///< calls through gort::syscall / syscall_block
  std::uint64_t syscall_fast_exits = 0;  ///< calls that returned to their own P (no hand-off)
  std::uint64_t retakes = 0;             ///< Ps sysmon took from a goroutine stuck in a call
  std::uint64_t preemptions = 0;         ///< goroutines that yielded because sysmon asked
  std::uint64_t sysmon_rounds = 0;       ///< rounds of sysmon's policy (its wake-ups)

  // ---- Lab 06: work stealing (steals above counts the Gs taken) ----
  /// Searches of other Ps' queues (steal_work calls by spinning Ms)
  std::uint64_t steal_attempts = 0;
  /// Searches that took something: steals / steal_batches is the mean batch
  std::uint64_t steal_batches = 0;
  /// Most Ms spinning (searching for work) at once
  std::uint64_t spinning_peak = 0;
  /// Ms started by a spinning M that found work and was the last spinner
  std::uint64_t spinner_wakeups = 0;

  // ---- scheduling decisions by cause (issue 11, rt/trace.cpp) -------------
  // The seed's occasions for the scheduler to decide: the `go` keyword,
  // system calls and synchronization (gort has no garbage collector, Go's
  // fourth), plus yields, preemptions and exits. Each count but sched_go is
  // a goroutine leaving its M for that reason.
  std::uint64_t sched_go = 0;       ///< go statements: a new G queued, maybe a P woken
  std::uint64_t sched_sync = 0;     ///< parks on a channel, select, WaitGroup or Mutex
  std::uint64_t sched_sleep = 0;    ///< parks in sleep_for (a timer)
  std::uint64_t sched_io = 0;       ///< parks waiting for the network poller (Lab 04)
  std::uint64_t sched_syscall = 0;  ///< system calls entered through entersyscall (Lab 05)
  std::uint64_t sched_yield = 0;    ///< gort::yield
  /// Preemptions (Lab 05) and runnext chains cut by the time-slice bound
  /// (slices_ended)
  std::uint64_t sched_preempt = 0;
  std::uint64_t sched_exit = 0;  ///< goroutines that finished (main included)
  int procs = 0;                 ///< number of Ps
};

/// A snapshot of the counters. Callable from any thread at any time, also
/// while another thread starts or ends gort::run (zeros before any run()).
Stats stats() noexcept;

/// One goroutine in a snapshot.
struct GInfo {
  std::uint64_t id = 0;                       ///< goroutine id
  GStatus status = GStatus::idle;             ///< its state
  WaitReason wait_reason = WaitReason::none;  ///< why it waits (status waiting)
  int m = -1;                                 ///< M running it, -1 if none
};
/// One P in a snapshot.
struct PInfo {
  int id = 0;                       ///< index of the P
  PStatus status = PStatus::idle;   ///< idle or running
  std::uint32_t runq_len = 0;       ///< Gs in its local ring
  std::uint64_t runnext = 0;        ///< id of the G in runnext, 0 if none
  std::uint64_t schedtick = 0;      ///< schedule ticks (not bumped by runnext hand-offs)
  int m = -1;                       ///< M holding it, -1 if none
  std::vector<std::uint64_t> runq;  ///< ids in its local ring, head first
};
/// One M in a snapshot.
struct MInfo {
  int id = 0;              ///< M number (0 = the thread that called run)
  pid_t tid = 0;           ///< kernel thread id
  std::uint64_t curg = 0;  ///< id of the G it runs, 0 if on its scheduler stack (g0)
  int p = -1;              ///< P it holds, -1 if none
  bool spinning = false;   ///< looking for work while holding a P
  bool idle = false;       ///< parked on its Note in the idle-M list
};
/// The whole scheduler at one moment (taken under the scheduler lock; Gs
/// may change state while it is copied, each entry is individually valid).
struct Snapshot {
  bool running = false;                    ///< false: no gort::run in progress; the lists are empty
  std::vector<GInfo> goroutines;           ///< live goroutines (dead ones left out), by id
  std::vector<PInfo> procs;                ///< every P, by index
  std::vector<MInfo> threads;              ///< every M, by number
  std::vector<std::uint64_t> global_runq;  ///< ids on the global run queue, head first
  int idle_procs = 0;                      ///< Ps on the idle list
  int spinning_threads = 0;                ///< Ms spinning (looking for work)
};

/// Copies the state of every live G, every P and every M. Any thread may
/// call it at any time, inside or outside gort::run, also while another
/// thread starts or ends a run. Allocates (may throw std::bad_alloc); not
/// async-signal-safe.
Snapshot snapshot();

/// Writes a Go-style dump (each goroutine's id, state and wait reason, each
/// P's queue, each M) to file descriptor @p fd without locking or
/// allocating, so it can run in a signal handler on a hung runtime (it is
/// async-signal-safe: the lists of Gs and Ms it walks never move). The
/// values are read racily, as Go's schedtrace reads them. Not meant to race
/// with the end of a run (run() frees the Gs as it returns).
void dump(int fd) noexcept;

}  // namespace debug
}  // namespace gort

/// Called by the grader on SIGQUIT when a test hangs: gort::debug::dump(fd).
extern "C" void gort_grader_dump_state(int fd);
