// Lab 05, provided: sysmon's thread and sleep, the preemption flag and its
// scheduling points, the one-time "cannot preempt" diagnostic, the wait for
// calls in progress at teardown, and gort::syscall / read_file on top of the
// student's entersyscall / exitsyscall (labs/05-syscall-handoff/syscall.cpp).
//
// sysmon is a thread of its own with no M and no P (Go's sysmon runs on an M
// without a P): it never runs goroutines. Its loop calls the student's
// sysmon_tick for one round of policy and sleeps as long as the round says,
// on a futex word that sysmon_wake and sysmon_stop bump. The deep sleep is
// taken only when every P is idle: the loop publishes sysmon_sleeping, then
// re-reads npidle (both seq_cst; acquirep decrements npidle before it reads
// sysmon_sleeping), so a P that starts running either is seen here or wakes
// sysmon.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "gort/gort.hpp"
#include "os/futex.hpp"
#include "os/os_thread.hpp"
#include "rt/hooks.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/sysmon.hpp"
#include "rt/trace.hpp"

namespace gort::rt {

namespace {

os::Thread sysmon_thread;
std::atomic<bool> sysmon_stopping{false};
std::atomic<std::uint32_t> sysmon_seq{0};  // bumped by every wake-up

/// What the diagnostic remembers of one P (the sysmon thread only).
struct LongRun {
  std::uint64_t switches = 0;
  std::int64_t since = 0;
};
bool long_run_reported = false;               // once per run
std::atomic<bool> exit_wait_reported{false};  // once per run: sysmon or teardown

/// main returned more than a second ago and goroutines are still inside
/// gort::syscall: say what run() waits for (once per run). Printed by
/// sysmon when the booting thread itself is blocked in such a call (then
/// teardown cannot start), else by teardown's wait_for_syscalls.
void report_exit_wait() noexcept {
  int n = syscalls_in_progress();
  if (n == 0 || exit_wait_reported.exchange(true)) return;
  char msg[512];
  std::snprintf(msg, sizeof msg,
                "gort: main returned while %d goroutines are inside gort::syscall; run() "
                "returns when their calls return (each holds an OS thread gort cannot "
                "take back). Make them return before main does: close or write the "
                "descriptor they read, or use gort::net for sockets and pipes.\n",
                n);
  write_all(2, msg);
}

/// Sleeps until sysmon_seq moves from @p seq or @p ns pass (ns < 0: no limit).
void sysmon_sleep(std::uint32_t seq, std::int64_t ns) {
  os::futex_wait(&sysmon_seq, seq,
                 ns < 0 ? std::chrono::nanoseconds(-1) : std::chrono::nanoseconds(ns));
}

/// The goroutine id running on @p p, 0 if none (racy, as running_tid).
[[gnu::no_sanitize("thread")]] std::uint64_t running_goid(const P* p) noexcept {
  M* m = __atomic_load_n(&p->m, __ATOMIC_RELAXED);
  if (m == nullptr) return 0;
  G* gp = __atomic_load_n(&m->curg, __ATOMIC_RELAXED);
  return gp ? gp->id : 0;
}

/// The one-time diagnostic: a goroutine has kept its P for kLongRunNs (no
/// switch on it) while others wait on it. gort cannot interrupt it (see the
/// Lab 05 handout, "Why not preempt like Go 1.14"), so it says so, once.
void check_long_runners(LongRun* recs, std::int64_t now) {
  if (long_run_reported) return;
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    P* p = &sched.allp[i];
    LongRun& r = recs[i];
    std::uint64_t sw = p->n_switches.load(std::memory_order_relaxed);
    if (p->status.load(std::memory_order_relaxed) != PStatus::running || sw != r.switches) {
      r.switches = sw;
      r.since = now;
      continue;
    }
    std::uint32_t waiting = runq_len(p) + (p->runnext.load(std::memory_order_relaxed) ? 1 : 0);
    if (now - r.since < kLongRunNs || waiting == 0) continue;
    std::uint64_t id = running_goid(p);
    if (id == 0) continue;
    char msg[640];
    std::snprintf(msg, sizeof msg,
                  "gort: goroutine %llu has run for %.1f s on P%d without a scheduling point "
                  "while %u goroutines wait on that P. gort cannot interrupt a goroutine "
                  "between two instructions (see labs/05-syscall-handoff/README.md, \"Why not "
                  "preempt like Go 1.14\"): make its loop call gort::yield() now and then, or "
                  "wrap its long blocking calls in gort::syscall. (Printed once per run.)\n",
                  static_cast<unsigned long long>(id), static_cast<double>(now - r.since) / 1e9,
                  p->id, waiting);
    write_all(2, msg);
    long_run_reported = true;
    return;
  }
}

void sysmon_main() {
  std::unique_ptr<SysmonP[]> procs(new SysmonP[static_cast<std::size_t>(sched.gomaxprocs)]);
  std::unique_ptr<LongRun[]> runs(new LongRun[static_cast<std::size_t>(sched.gomaxprocs)]);
  SysmonState st;
  st.procs = procs.get();
  st.lastpoll = nanotime();
  long_run_reported = false;
  exit_wait_reported.store(false);
  std::int64_t exit_seen = 0;  // when sysmon first saw main's return
  try {
    while (!sysmon_stopping.load(std::memory_order_acquire)) {
      std::uint32_t seq = sysmon_seq.load(std::memory_order_acquire);
      std::int64_t now = nanotime();
      if (sched.exiting.load(std::memory_order_acquire)) {
        // main returned: no more policy. Teardown stops sysmon — unless the
        // booting thread is itself blocked in a call; then say so.
        if (exit_seen == 0) exit_seen = now;
        if (now - exit_seen > kLongRunNs) report_exit_wait();
        sysmon_sleep(seq, 100'000'000);
        continue;
      }
      sched.n_sysmon_rounds.fetch_add(1, std::memory_order_relaxed);
      std::int64_t d = sysmon_tick(st, now);
      check_long_runners(runs.get(), now);
      if (d == kSysmonDeepSleep) {
        sysmon_sleeping.store(true, std::memory_order_seq_cst);
        if (sched.npidle.load(std::memory_order_seq_cst) == sched.gomaxprocs &&
            !sysmon_stopping.load(std::memory_order_seq_cst)) {
          sysmon_sleep(seq, -1);
          sysmon_sleeping.store(false, std::memory_order_seq_cst);
          continue;
        }
        sysmon_sleeping.store(false, std::memory_order_seq_cst);
        d = kSysmonMaxDelayNs;  // a P runs after all: the longest ordinary sleep
      }
      sysmon_sleep(seq, d > 0 ? d : 0);
    }
  } catch (const std::exception& e) {
    std::string msg = std::string("exception in sysmon: ") + e.what();
    fatal(msg.c_str());
  }
}

/// Config::max_threads, else GORT_MAXTHREADS, else 10,000.
int max_threads_from_env() {
  const char* env = std::getenv("GORT_MAXTHREADS");
  if (env == nullptr || *env == '\0') return kDefaultMaxThreads;
  char* end = nullptr;
  long n = std::strtol(env, &end, 10);
  if (*end != '\0' || n < 2 || n > 1'000'000) {
    throw std::invalid_argument(std::string("GORT_MAXTHREADS must be a number of threads between "
                                            "2 and 1000000, got '") +
                                env + "'");
  }
  return static_cast<int>(n);
}

}  // namespace

void sysmon_start() {
  sysmon_stopping.store(false);
  sysmon_sleeping.store(false);
  sysmon_thread = os::Thread([] { sysmon_main(); }, os::ThreadOptions{256 * 1024, "gort-sysmon"});
}

void sysmon_stop() noexcept {
  if (!sysmon_thread.joinable()) return;
  sysmon_stopping.store(true, std::memory_order_seq_cst);
  sysmon_seq.fetch_add(1, std::memory_order_release);
  os::futex_wake(&sysmon_seq, 1);
  try {
    sysmon_thread.join();
  } catch (...) {
  }
  sysmon_thread = os::Thread();
  sysmon_sleeping.store(false);
}

void sysmon_wake_slow() noexcept {
  if (!sysmon_sleeping.exchange(false, std::memory_order_seq_cst)) return;
  sysmon_seq.fetch_add(1, std::memory_order_release);
  os::futex_wake(&sysmon_seq, 1);
}

void request_preempt(P* p) noexcept { p->preempt.store(true, std::memory_order_relaxed); }

namespace {

/// g0 half of a preemption (Go's gopreempt_m → goschedImpl): the goroutine
/// goes to the global queue, so any P may take it and whatever waited on
/// this P runs first.
G* gopreempt_m(M* m, G* gp) {
  (void)m;
  cas_status(gp, GStatus::running, GStatus::runnable);
  {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    gp->schedlink = nullptr;
    globrunq_put_batch(gp, gp, 1);
  }
  wakep();
  return nullptr;
}

}  // namespace

void preempt_point() {
  P* p = current_p();
  if (p == nullptr || !p->preempt.load(std::memory_order_relaxed)) [[likely]]
    return;
  if (current_g() == nullptr) return;
  p->preempt.store(false, std::memory_order_relaxed);
  sched.n_preemptions.fetch_add(1, std::memory_order_relaxed);
  trace::preempted(current_g());
  mcall(gopreempt_m);
}

std::int64_t thread_cpu_ns(pid_t tid) noexcept {
  // The kernel's per-thread CPU clock of @p tid (what pthread_getcpuclockid
  // returns): CPUCLOCK_PERTHREAD_MASK (4) | CPUCLOCK_SCHED (2), ~tid above.
  clockid_t cid = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6u);
  timespec ts;
  if (::clock_gettime(cid, &ts) != 0) return -1;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[gnu::no_sanitize("thread")]] pid_t running_tid(const P* p) noexcept {
  M* m = __atomic_load_n(&p->m, __ATOMIC_RELAXED);
  if (m == nullptr || __atomic_load_n(&m->curg, __ATOMIC_RELAXED) == nullptr) return 0;
  return __atomic_load_n(&m->tid, __ATOMIC_RELAXED);
}

int inject_glist(G* list) {
  if (list == nullptr) return 0;
  G* tail = list;
  std::int32_t n = 1;
  for (; tail->schedlink; tail = tail->schedlink) ++n;
  int idle;
  {
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    globrunq_put_batch(list, tail, n);
    idle = sched.npidle.load(std::memory_order_relaxed);
  }
  sched.n_netpoll_wakeups.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  for (int i = 0; i < n && i < idle; ++i) startm(nullptr, false);
  return n;
}

void wait_for_syscalls() noexcept {
  std::int64_t start = nanotime();
  while (syscalls_in_progress() > 0) {
    if (nanotime() - start > kLongRunNs) report_exit_wait();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

int max_threads_of(int configured) {
  if (configured < 0 || configured == 1 || configured > 1'000'000) {
    throw std::invalid_argument(
        "gort::Config::max_threads must be between 2 and 1000000 (0 = default), got " +
        std::to_string(configured));
  }
  return configured > 0 ? configured : max_threads_from_env();
}

[[noreturn]] void thread_exhaustion() noexcept {
  char msg[320];
  std::snprintf(msg, sizeof msg,
                "runtime: program exceeds %d-thread limit (gort::Config::max_threads or "
                "GORT_MAXTHREADS): too many goroutines are blocked in gort::syscall at once, "
                "each holding a thread. Bound them (a semaphore channel), or raise the limit.\n",
                sched.max_threads);
  write_all(2, msg);
  fatal("thread exhaustion");
}

}  // namespace gort::rt

namespace gort::detail {

using namespace gort::rt;

void syscall_enter(bool block) {
  G* gp = current_g();
  if (gp == nullptr) throw_outside_run(block ? "syscall_block" : "syscall");
  if (gp->status.load(std::memory_order_relaxed) == GStatus::syscall) {
    throw std::logic_error(
        "gort::syscall called inside the function of another gort::syscall — during a system "
        "call the goroutine holds no P; call gort::syscall for each blocking call separately");
  }
  trace::syscall_enter();  // counted as a scheduling decision; drawn when tracing
  if (block) {
    entersyscall_block();
  } else {
    entersyscall();
  }
}

void syscall_exit() noexcept {
  exitsyscall();
  trace::syscall_exit();
  if (sched.exiting.load(std::memory_order_relaxed)) [[unlikely]] {
    // main returned during the call: this goroutine is not resumed (Go's
    // process would have exited); its M goes back to its loop and ends.
    park(nullptr, nullptr, WaitReason::none);
  }
  try {
    preempt_point();
  } catch (...) {
  }
}

}  // namespace gort::detail

namespace gort {

std::string read_file(const std::string& path) {
  if (rt::current_g() == nullptr) detail::throw_outside_run("read_file");
  int err = 0;  // errno is read inside the call: the scheduler may change it on the way out
  int fd = syscall([&] {
    int r = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    err = errno;
    return r;
  });
  if (fd < 0) throw std::system_error(err, std::generic_category(), "gort::read_file: " + path);
  // Read straight into the string (a goroutine's stack is small: no big
  // buffer on it), growing it by at least 16 KiB a time.
  std::string out;
  std::size_t len = 0;
  for (;;) {
    if (out.size() - len < 16 * 1024)
      out.resize(std::max<std::size_t>(2 * out.size(), len + 16 * 1024));
    ssize_t n = syscall([&] {
      ssize_t r = ::read(fd, out.data() + len, out.size() - len);
      err = errno;
      return r;
    });
    if (n > 0) {
      len += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) break;
    if (err == EINTR) continue;
    ::close(fd);
    out.clear();
    throw std::system_error(err, std::generic_category(), "gort::read_file: " + path);
  }
  out.resize(len);
  ::close(fd);
  return out;
}

void write_file(const std::string& path, std::string_view data) {
  if (rt::current_g() == nullptr) detail::throw_outside_run("write_file");
  int err = 0;
  int fd = syscall([&] {
    int r = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    err = errno;
    return r;
  });
  if (fd < 0) throw std::system_error(err, std::generic_category(), "gort::write_file: " + path);
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = syscall([&] {
      ssize_t r = ::write(fd, data.data() + off, data.size() - off);
      err = errno;
      return r;
    });
    if (n < 0 && err == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "gort::write_file: " + path);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    throw std::system_error(errno, std::generic_category(), "gort::write_file: " + path);
  }
}

}  // namespace gort
