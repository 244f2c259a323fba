// Lab 05 — system calls and sysmon: the policy constants, sysmon's memory of
// each P, and the provided machinery around the student's functions.
//
// Who does what (Go's names in parentheses):
//   * The student (labs/05-syscall-handoff/syscall.cpp; contracts in
//     rt/hooks.hpp): entersyscall / exitsyscall (reentersyscall,
//     exitsyscallfast, exitsyscall0), entersyscall_block, handoffp,
//     syscalls_in_progress, and sysmon_tick — one round of sysmon's policy:
//     retake Ps stuck in a call, poll the network when nobody has for 10 ms,
//     ask a goroutine that has run for 10 ms to yield, and say how long to
//     sleep before the next round.
//   * Provided (rt/sysmon.cpp): sysmon's thread, started by run()'s boot and
//     stopped by its teardown; the loop that sleeps between the student's
//     rounds and the deep sleep (sysmon_wake ends it when a P starts
//     running); the preemption flag and its checks at scheduling points
//     (preempt_point: channel operations, WaitGroup::wait, a Mutex::lock that waits,
//     go(), the end of gort::syscall); the one-time diagnostic about a
//     goroutine that runs for a second without a scheduling point; the
//     thread limit; and gort::syscall itself.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "rt/g.hpp"
#include "rt/p.hpp"

namespace gort::rt {

/// sysmon's shortest sleep between two rounds (Go: 20 µs).
inline constexpr std::int64_t kSysmonMinDelayNs = 20'000;
/// sysmon's longest sleep between two rounds while a P runs (Go: 10 ms).
inline constexpr std::int64_t kSysmonMaxDelayNs = 10'000'000;
/// Rounds in a row with nothing to do before the sleep starts doubling (Go: 50).
inline constexpr int kSysmonIdleRounds = 50;
/// A goroutine that has run this long on its P is asked to yield (Go: forcePreemptNS).
inline constexpr std::int64_t kForcePreemptNs = 10'000'000;
/// A P in a call with nothing queued is left alone this long if an M is idle
/// or spinning (Go: 10 ms).
inline constexpr std::int64_t kSyscallGraceNs = 10'000'000;
/// sysmon polls the network when nobody has for this long (Go: 10 ms).
inline constexpr std::int64_t kSysmonNetpollNs = 10'000'000;
/// sysmon_tick's answer "every P is idle: sleep until one runs again".
inline constexpr std::int64_t kSysmonDeepSleep = -1;
/// The running time after which the one-time "cannot preempt" diagnostic is printed.
inline constexpr std::int64_t kLongRunNs = 1'000'000'000;
/// The default limit on OS threads (Go's SetMaxThreads default).
inline constexpr int kDefaultMaxThreads = 10'000;

/// What sysmon remembers of one P between rounds (sysmon's own: only the
/// sysmon thread reads or writes it; Go's sysmontick).
struct SysmonP {
  std::uint32_t syscalltick = 0;  ///< p->syscalltick when last seen
  std::int64_t syscallwhen = 0;   ///< when that tick was first seen (ns)
  std::uint64_t switches = 0;     ///< p->n_switches when last seen
  pid_t tid = 0;                  ///< the thread that was running it then
  std::int64_t cpu_at = 0;        ///< that thread's CPU time then (ns)
};

/// sysmon's state across rounds (the sysmon thread only).
struct SysmonState {
  std::int64_t delay = 0;     ///< the sleep chosen by the last round (ns)
  int idle = 0;               ///< rounds in a row that did nothing
  std::int64_t lastpoll = 0;  ///< when sysmon last polled the network (ns)
  SysmonP* procs = nullptr;   ///< one record per P (sched.gomaxprocs)
};

// ---- provided (rt/sysmon.cpp) ---------------------------------------------

/// Starts the sysmon thread (run()'s boot, after the Ps exist). Throws
/// std::system_error if the thread cannot be made.
void sysmon_start();
/// Stops and joins the sysmon thread (teardown, after sched.exiting is set).
/// Does nothing if it was not started.
void sysmon_stop() noexcept;

/// True while sysmon is in its deep sleep (every P idle).
inline std::atomic<bool> sysmon_sleeping{false};
/// Ends sysmon's deep sleep. Called when a P starts running (acquirep,
/// mstart). Any thread, any time; never blocks.
void sysmon_wake_slow() noexcept;
inline void sysmon_wake() noexcept {
  if (sysmon_sleeping.load(std::memory_order_seq_cst)) [[unlikely]]
    sysmon_wake_slow();
}

/// Asks the goroutine running on @p p to yield at its next scheduling point
/// (Go's preemptone; here a flag on the P: a request that arrives after that
/// goroutine stopped costs its successor one extra yield). sysmon only.
void request_preempt(P* p) noexcept;

/// A scheduling point: if sysmon asked the running goroutine to yield, it
/// yields now to the global queue, as Go's preempted goroutines do (counted
/// in Stats::preemptions). Goroutines only, with no runtime lock held; a
/// no-op elsewhere.
void preempt_point();

/// CPU time consumed so far by the kernel thread @p tid of this process (ns),
/// or -1 if it cannot be read. Any thread.
std::int64_t thread_cpu_ns(pid_t tid) noexcept;

/// The kernel thread id of the M holding @p p if it is running a goroutine,
/// else 0. A racy read, like Go's sysmon reading pp.m (Ms and Gs are never
/// freed during a run, so a stale answer is only stale). Any thread.
pid_t running_tid(const P* p) noexcept;

/// Makes the chain @p list (through schedlink, already runnable) runnable
/// on the global queue and starts Ms for idle Ps to run them (Go's
/// injectglist). Returns how many Gs. Any thread; takes sched.lock.
int inject_glist(G* list);

/// Called by teardown: waits for every goroutine still inside a system call
/// (they hold their M's thread) to return, printing once after a second
/// which goroutines run() is waiting for and what to do.
void wait_for_syscalls() noexcept;

/// The thread limit of a run: @p configured (Config::max_threads) if not 0,
/// else GORT_MAXTHREADS, else kDefaultMaxThreads. Throws
/// std::invalid_argument naming the value if it is not in 2..1000000.
int max_threads_of(int configured);

/// Prints Go's "runtime: program exceeds N-thread limit" with what to do and
/// ends the program ("fatal error: thread exhaustion", exit code 2). Called
/// by startm when a new M would pass sched.max_threads.
[[noreturn]] void thread_exhaustion() noexcept;

}  // namespace gort::rt
