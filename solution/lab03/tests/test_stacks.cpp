// Solution-only tests of the provided goroutine stacks and fault handler
// (runtime/ctx/stack_pool.cpp, runtime/ctx/stack_guard.cpp, runtime/rt/gstack.cpp):
//   * an overflow of a goroutine stack — a deep recursion, or one frame much
//     larger than the guard page — is reported as a stack overflow naming the
//     goroutine, also for a goroutine created past the old guarded-stack bound
//     (~28k), where stacks used to be canary-only;
//   * every stack a pool hands out faults when its guard page is touched
//     (40,000 of them, past that bound), and the older-kernel fallback keeps
//     its guarded-then-canary policy with one canary position;
//   * gort::run leaves the program's own SIGSEGV/SIGBUS handlers in place
//     afterwards and hands them every fault that is not a stack overflow.
// Crashes happen in forked children; under sanitizers (which own SIGSEGV and
// the stack shadow) those tests are skipped with a message.
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctx/stack_pool.hpp"
#include "gort/gort.hpp"
#include "os/sys.hpp"

namespace {

#if defined(GORT_ASAN) || defined(GORT_TSAN)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

constexpr const char* kSanitizerSkip =
    "sanitizer build: skipped (ASan/TSan own the SIGSEGV handler and the stack shadow)";

// Goroutines blocked before the one that overflows: more than the old scheme's
// guarded-stack bound ((65530 - 8192) / 2 = 28669), so it gets a stack the old
// scheme gave only a canary.
constexpr int kPastOldBound = 40000;

struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
  std::string err;  // stdout and stderr together
  std::string describe() const {
    if (exited) return "exited with status " + std::to_string(exit_code);
    if (signaled) return std::string("killed by signal ") + strsignal(signal);
    return "did not finish";
  }
};

// Runs body() in a forked child with the default SIGSEGV/SIGBUS actions (not
// the test framework's crash reporters) and returns how it ended and what it
// wrote. Exits 0 if body returns.
ChildResult run_in_child(const std::function<void()>& body) {
  ChildResult r;
  int fds[2];
  if (::pipe(fds) != 0) {
    r.err = "pipe failed";
    return r;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT}) ::signal(sig, SIG_DFL);
    body();
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[4096];
  for (;;) {
    const ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0) break;
    r.err.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.signal = WTERMSIG(status);
  }
  return r;
}

volatile std::uint64_t g_limit = UINT64_MAX;  // never reached: the recursion is unbounded

[[gnu::noinline]] std::uint64_t recurse(std::uint64_t n) {
  volatile char frame[512];
  frame[0] = static_cast<char>(n);
  frame[511] = static_cast<char>(n >> 8);
  if (n == g_limit) return 0;
  return recurse(n + 1) + frame[0] + frame[511];
}

// One frame of 64 KiB, written at its lowest byte only: without stack-clash
// protection SP moves 64 KiB down in one step and this write lands far below
// a 16 KiB stack's guard page (in another goroutine's stack, or unmapped).
[[gnu::noinline]] int big_frame() {
  volatile char buf[64 * 1024];
  buf[0] = 1;
  return buf[0];
}

enum class Overflow { recursion, big_frame };

// In a child: a run with @p blocked goroutines parked on a channel, then one
// more goroutine that overflows its stack as @p how says. Prints the
// overflowing goroutine's id first ("overflowing goroutine N").
void overflow_in_run(int blocked, Overflow how, std::size_t stack_size) {
  gort::run(
      [blocked, how] {
        gort::Chan<int> gate;
        gort::WaitGroup parked, done;
        parked.add(blocked);
        for (int i = 0; i < blocked; ++i) {
          gort::go([&parked, gate] {
            parked.done();
            (void)gate.recv();
          });
        }
        parked.wait();
        done.add(1);
        gort::go([how, &done] {
          std::fprintf(stderr, "overflowing goroutine %llu\n",
                       static_cast<unsigned long long>(gort::debug::goroutine_id()));
          std::fflush(stderr);
          if (how == Overflow::recursion) {
            std::fprintf(stderr, "recursion returned %llu\n",
                         static_cast<unsigned long long>(recurse(0)));
          } else {
            std::fprintf(stderr, "the 64 KiB frame returned %d\n", big_frame());
          }
          done.done();
        });
        done.wait();
        gate.close();
      },
      {.procs = 1, .stack_size = stack_size});
  std::fprintf(stderr, "the run survived the overflow\n");
}

void check_overflow_reported(int blocked, Overflow how, std::size_t stack_size) {
  if (kSanitized) {
    MESSAGE(std::string(kSanitizerSkip));
    return;
  }
  ChildResult r = run_in_child([&] { overflow_in_run(blocked, how, stack_size); });
  INFO("child: " << r.describe() << "; its output:\n" << r.err);
  const std::string tag = "overflowing goroutine ";
  const std::size_t at = r.err.find(tag);
  REQUIRE_MESSAGE(at != std::string::npos, "the overflowing goroutine never started");
  const std::string id = r.err.substr(at + tag.size(), r.err.find('\n', at) - at - tag.size());
  CHECK(r.signaled);
  CHECK(r.signal == SIGSEGV);
  CHECK_MESSAGE(
      r.err.find("fatal error: stack overflow in goroutine " + id + "\n") != std::string::npos,
      "the overflow of goroutine " << id << " was not reported as one");
}

// Touches @p addr (a write); true if that faulted with SIGSEGV at exactly
// that address. The caller installs fault_catcher for SIGSEGV first.
sigjmp_buf g_jump;
volatile std::uintptr_t g_fault_addr = 0;

void fault_catcher(int, siginfo_t* info, void*) {
  g_fault_addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  siglongjmp(g_jump, 1);
}

bool write_faults(char* addr) {
  g_fault_addr = 0;
  if (sigsetjmp(g_jump, 1) == 0) {
    *static_cast<volatile char*>(addr) = 1;
    return false;
  }
  return g_fault_addr == reinterpret_cast<std::uintptr_t>(addr);
}

// Installs fault_catcher for SIGSEGV and SIGBUS for its lifetime.
struct CatchFaults {
  struct sigaction old_segv {};
  struct sigaction old_bus {};
  CatchFaults() {
    struct sigaction sa {};
    sa.sa_sigaction = fault_catcher;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
  }
  ~CatchFaults() {
    sigaction(SIGSEGV, &old_segv, nullptr);
    sigaction(SIGBUS, &old_bus, nullptr);
  }
};

void program_handler(int sig, siginfo_t* info, void*) {
  char msg[96];
  const int n =
      std::snprintf(msg, sizeof msg, "program handler: signal %d at %p\n", sig, info->si_addr);
  if (n > 0) (void)!::write(2, msg, static_cast<std::size_t>(n));
  ::_exit(42);
}

void plain_handler(int) {}

}  // namespace

TEST_CASE("a deep recursion on a goroutine stack is reported as a stack overflow") {
  check_overflow_reported(0, Overflow::recursion, 0);
}

TEST_CASE("an overflow past the old guarded-stack bound is reported, not silent") {
  // Bug: beyond ~28k live goroutines stacks had only a canary, so this
  // recursion ran down through the other goroutines' stacks unreported.
  if (gort::ctx::best_stack_guards() != gort::ctx::StackGuards::installed) {
    MESSAGE("this kernel has no MADV_GUARD_INSTALL: stacks past the bound are canary stacks");
    return;
  }
  check_overflow_reported(kPastOldBound, Overflow::recursion, 0);
}

TEST_CASE("a frame larger than the guard page cannot jump over it") {
  // A 16 KiB stack and a 64 KiB frame touched at its low end, with other
  // goroutines' stacks below it: only stack-clash probing (every page of the
  // frame touched in order) makes this fault in the guard page.
  check_overflow_reported(1000, Overflow::big_frame, 16 * 1024);
}

TEST_CASE("every stack from the pool faults at its guard page, 40,000 stacks") {
  if (kSanitized) {
    MESSAGE(std::string(kSanitizerSkip));
    return;
  }
  if (!gort::ctx::kernel_guard_pages()) {
    MESSAGE("this kernel has no MADV_GUARD_INSTALL: the pool uses the mapped_then_canary mode");
    return;
  }
  const std::size_t page = gort::os::page_size();
  gort::ctx::StackPool pool(16 * 1024, 0, 4096, gort::ctx::StackGuards::installed);
  std::vector<gort::ctx::Stack> stacks;
  stacks.reserve(kPastOldBound);
  for (int i = 0; i < kPastOldBound; ++i) stacks.push_back(pool.acquire());
  CHECK(pool.live() == static_cast<std::size_t>(kPastOldBound));
  CHECK(pool.live_guarded() == static_cast<std::size_t>(kPastOldBound));
  int no_guard = 0, silent = 0, usable_faulted = 0;
  {
    CatchFaults catcher;
    for (std::size_t i = 0; i < stacks.size(); ++i) {
      const gort::ctx::Stack& s = stacks[i];
      if (s.guard < page) ++no_guard;
      if (!write_faults(static_cast<char*>(s.lo) - 1)) ++silent;
      if (!write_faults(static_cast<char*>(s.lo) - s.guard)) ++silent;
      if (i % 997 == 0 && (write_faults(static_cast<char*>(s.lo)) ||
                           write_faults(static_cast<char*>(s.hi()) - 1))) {
        ++usable_faulted;  // a sample of usable bytes, both ends
      }
    }
  }
  CHECK_MESSAGE(no_guard == 0, no_guard << " stacks came without a guard");
  CHECK_MESSAGE(silent == 0, silent << " guard-page writes did not fault at their address");
  CHECK_MESSAGE(usable_faulted == 0, usable_faulted << " sampled stacks were not usable");
  for (gort::ctx::Stack& s : stacks) pool.release(s);
  CHECK(pool.live() == 0);
  // A released stack comes back with its guard (reuse, no new arena).
  gort::ctx::Stack again = pool.acquire();
  {
    CatchFaults catcher;
    CHECK(write_faults(static_cast<char*>(again.lo) - 1));
  }
  pool.release(again);
}

TEST_CASE("older kernels: mmap-guarded stacks up to the limit, then canary stacks") {
  const std::size_t page = gort::os::page_size();
  constexpr std::size_t kLimit = 3;
  gort::ctx::StackPool pool(16 * 1024, kLimit, 4096, gort::ctx::StackGuards::mapped_then_canary);
  CHECK(pool.guarded_limit() == kLimit);
  std::vector<gort::ctx::Stack> stacks;
  for (int i = 0; i < 600; ++i) stacks.push_back(pool.acquire());  // spans three arenas
  CHECK(pool.live() == 600);
  CHECK(pool.live_guarded() == kLimit);
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    const gort::ctx::Stack& s = stacks[i];
    if (i < kLimit) {
      CHECK(s.guard == page);
      CHECK(s.size == 16 * 1024);
    } else {
      CHECK(s.guard == 0);
      CHECK(s.size == 16 * 1024 - gort::ctx::StackPool::kCanaryGap);
      CHECK(gort::ctx::StackPool::canary_intact(s));
    }
  }
  if (!kSanitized) {
    CatchFaults catcher;
    for (std::size_t i = 0; i < kLimit; ++i) {
      CHECK(write_faults(static_cast<char*>(stacks[i].lo) - 1));
    }
  }
  // The canary is the word just below lo: an overflow overwrites it first,
  // and the usable bytes of the stack below it do not include it.
  gort::ctx::Stack& victim = stacks[kLimit + 5];
  auto* canary = static_cast<std::uint64_t*>(victim.lo) - 1;
  const gort::ctx::Stack& below = stacks[kLimit + 4];
  CHECK(static_cast<char*>(below.hi()) + gort::ctx::StackPool::kCanaryGap ==
        static_cast<char*>(victim.lo));  // neighbours in one arena
  CHECK(reinterpret_cast<char*>(canary) >= static_cast<char*>(below.hi()));
  *canary = 0;
  CHECK_FALSE(gort::ctx::StackPool::canary_intact(victim));
  // Handing it out again rewrites the canary.
  void* lo = victim.lo;
  pool.release(victim);
  gort::ctx::Stack reused = pool.acquire();
  CHECK(reused.lo == lo);
  CHECK(gort::ctx::StackPool::canary_intact(reused));
  pool.release(reused);
  for (gort::ctx::Stack& s : stacks) pool.release(s);
  CHECK(pool.live() == 0);
}

TEST_CASE("run() gives the program's SIGSEGV and SIGBUS handlers back when it returns") {
  struct sigaction saved_segv {
  }, saved_bus{};
  struct sigaction mine {};
  mine.sa_sigaction = program_handler;
  mine.sa_flags = SA_SIGINFO;
  sigemptyset(&mine.sa_mask);
  struct sigaction mine_bus {};
  mine_bus.sa_handler = plain_handler;
  sigemptyset(&mine_bus.sa_mask);
  sigaction(SIGSEGV, &mine, &saved_segv);
  sigaction(SIGBUS, &mine_bus, &saved_bus);
  int ran = 0;
  gort::run(
      [&ran] {
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&ran, &wg] {
          ++ran;
          wg.done();
        });
        wg.wait();
      },
      {.procs = 2});
  struct sigaction after_segv {
  }, after_bus{};
  sigaction(SIGSEGV, nullptr, &after_segv);
  sigaction(SIGBUS, nullptr, &after_bus);
  sigaction(SIGSEGV, &saved_segv, nullptr);
  sigaction(SIGBUS, &saved_bus, nullptr);
  CHECK(ran == 1);
  CHECK_MESSAGE(((after_segv.sa_flags & SA_SIGINFO) && after_segv.sa_sigaction == program_handler),
                "after run() SIGSEGV is no longer handled by the program's handler");
  CHECK_MESSAGE((!(after_bus.sa_flags & SA_SIGINFO) && after_bus.sa_handler == plain_handler),
                "after run() SIGBUS is no longer handled by the program's handler");
}

TEST_CASE("a fault inside run() that is not a stack overflow reaches the program's handler") {
  if (kSanitized) {
    MESSAGE(std::string(kSanitizerSkip));
    return;
  }
  auto with_handler = [](std::function<void()> fault) {
    return run_in_child([fault] {
      struct sigaction mine {};
      mine.sa_sigaction = program_handler;
      mine.sa_flags = SA_SIGINFO;
      sigemptyset(&mine.sa_mask);
      sigaction(SIGSEGV, &mine, nullptr);
      gort::run([fault] {
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&wg, fault] {
          fault();
          wg.done();
        });
        wg.wait();
      });
      std::fprintf(stderr, "the fault was lost\n");
    });
  };
  SUBCASE("raise(SIGSEGV) in a goroutine") {
    ChildResult r = with_handler([] { ::raise(SIGSEGV); });
    INFO("child: " << r.describe() << "; its output:\n" << r.err);
    CHECK(r.exited);
    CHECK(r.exit_code == 42);
    CHECK(r.err.find("program handler: signal 11") != std::string::npos);
  }
  SUBCASE("a write to the program's own PROT_NONE page") {
    const std::size_t page = gort::os::page_size();
    void* p = ::mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    ChildResult r = with_handler([p] { *static_cast<volatile char*>(p) = 1; });
    ::munmap(p, page);
    INFO("child: " << r.describe() << "; its output:\n" << r.err);
    CHECK(r.exited);
    CHECK(r.exit_code == 42);
    char expect[64];
    std::snprintf(expect, sizeof expect, "program handler: signal 11 at %p", p);
    CHECK(r.err.find(expect) != std::string::npos);
  }
}
