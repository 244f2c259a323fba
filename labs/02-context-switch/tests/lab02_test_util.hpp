// Lab 02 grader helpers: contexts on their own stacks (from stack_alloc, or
// from plain test memory so that Tasks 1 and 2 are graded without Task 3),
// the hand-built first frame of the documented layout, child processes for
// tests whose correct outcome is a crash, and sanitizer detection.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "ctx/context.hpp"
#include "ctx/stack.hpp"
#include "lab02_probe.hpp"

#if defined(GORT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#if defined(GORT_ASAN) || defined(GORT_TSAN)
/// Sanitizer builds install their own fault handlers and shadow stacks;
/// tests that deliberately crash a child process skip themselves there.
inline constexpr bool kLab02Sanitized = true;
#else
inline constexpr bool kLab02Sanitized = false;
#endif

#if defined(__x86_64__) && !defined(GORT_SWITCH_BACKEND_FCONTEXT)
/// The Task 1 tests forge first frames of the documented x86-64 layout; with
/// the solution's Boost.Context backend (its own frame layout) they use
/// make_context instead.
#define LAB02_HAND_FRAME 1
#endif

namespace lab02 {

/// A context on its own freshly allocated stack (not started until switched to).
struct Fiber {
  gort::ctx::Stack stack;
  gort::ctx::Context ctx;
  Fiber(gort::ctx::EntryFn entry, void* arg, std::size_t size = 256 * 1024, bool guard = true)
      : stack(gort::ctx::stack_alloc(size, guard)) {
    gort::ctx::make_context(ctx, stack.lo, stack.size, entry, arg);
  }
  ~Fiber() {
    gort::ctx::release_context(ctx);
#if defined(GORT_ASAN)
    if (stack.lo != nullptr) __asan_unpoison_memory_region(stack.lo, stack.size);  // see ~Region
#endif
    gort::ctx::stack_free(stack);
  }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
};

/// Plain read-write test memory (one mmap, no guard page, nothing written):
/// stacks for the Task 1 and Task 2 tests, which must not need stack_alloc.
struct Region {
  char* base = nullptr;
  std::size_t len = 0;
  explicit Region(std::size_t bytes) : len(bytes) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      std::fprintf(stderr, "grader: mmap of %zu bytes failed\n", len);
      std::abort();
    }
    base = static_cast<char*>(p);
  }
  ~Region() {
#if defined(GORT_ASAN)
    // Frames left on it (a context that never returns) leave their redzones
    // poisoned; the next mapping at this address must not inherit that.
    __asan_unpoison_memory_region(base, len);
#endif
    munmap(base, len);
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
};

/// A context made by make_context on a Region (not on a stack_alloc stack).
struct RegionFiber {
  Region region;
  gort::ctx::Context ctx;
  RegionFiber(gort::ctx::EntryFn entry, void* arg, std::size_t size = 256 * 1024) : region(size) {
    gort::ctx::make_context(ctx, region.base, region.len, entry, arg);
  }
  ~RegionFiber() { gort::ctx::release_context(ctx); }
  RegionFiber(const RegionFiber&) = delete;
  RegionFiber& operator=(const RegionFiber&) = delete;
};

#if defined(LAB02_HAND_FRAME)
/// The first-frame layout the handout documents (x86-64), in 8-byte words
/// from ctx.sp upwards: what gort_switch_context_raw pops, in that order.
enum FrameSlot : int {
  kSlotX87Cw = 0,  // x87 control word (low 16 bits)
  kSlotMxcsr = 1,  // MXCSR (low 32 bits)
  kSlotR15 = 2,
  kSlotR14 = 3,
  kSlotR13 = 4,
  kSlotR12 = 5,
  kSlotRbx = 6,
  kSlotRbp = 7,
  kSlotRet = 8,  // the return address: where the switch resumes
  kFrameWords = 9,
};
/// Frame slot of each register, in kLab02RegNames order (rbx rbp r12 r13 r14 r15).
inline constexpr int kRegSlot[6] = {kSlotRbx, kSlotRbp, kSlotR12, kSlotR13, kSlotR14, kSlotR15};
inline constexpr const char* kSlotNames[kFrameWords] = {
    "x87 CW", "MXCSR", "r15", "r14", "r13", "r12", "rbx", "rbp", "return address"};

/// A context whose first frame the test forges itself, following the
/// documented layout, with lab02_frame_landing as its return address: the
/// first switch to it tests gort_switch_context_raw alone (no make_context).
/// The landing runs fn(arg) on this context's stack; fn must never return.
/// One HandFrame may be first switched to at a time (the landing's target is global).
struct HandFrame {
  Region region{256 * 1024};
  gort::ctx::Context ctx;
  std::uint64_t* frame = nullptr;  // == ctx.sp
  HandFrame(void (*fn)(void*), void* arg, const std::uint64_t (&regs)[6],
            std::uint32_t mxcsr = 0x1F80, std::uint16_t x87cw = 0x037F) {
    // 16-aligned, 64 bytes of zeros above the frame (nothing there is read).
    frame = reinterpret_cast<std::uint64_t*>(region.base + region.len - 64) - kFrameWords;
    for (int i = 0; i < 6; ++i) frame[kRegSlot[i]] = regs[i];
    frame[kSlotMxcsr] = mxcsr;
    frame[kSlotX87Cw] = x87cw;
    frame[kSlotRet] = reinterpret_cast<std::uint64_t>(&lab02_frame_landing);
    ctx.sp = frame;
    ctx.stack_lo = region.base;
    ctx.stack_size = region.len;
    lab02_landing_fn = fn;
    lab02_landing_arg = arg;
    for (auto& r : lab02_landing_regs) r = 0;
  }
  ~HandFrame() { gort::ctx::release_context(ctx); }
  HandFrame(const HandFrame&) = delete;
  HandFrame& operator=(const HandFrame&) = delete;
};
#endif

/// A context the Task 1 tests switch to: a HandFrame on x86-64 (so the
/// switch is graded alone); elsewhere, a make_context'd one.
struct SwitchTarget {
#if defined(LAB02_HAND_FRAME)
  HandFrame hf;
  gort::ctx::Context& ctx;
  SwitchTarget(void (*fn)(void*), void* arg)
      : hf(fn, arg, {0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666}), ctx(hf.ctx) {}
#else
  RegionFiber rf;
  gort::ctx::Context& ctx;
  SwitchTarget(void (*fn)(void*), void* arg) : rf(fn, arg), ctx(rf.ctx) {}
#endif
};

namespace detail {
struct Preflight {
  gort::ctx::Context main;
  gort::ctx::Context* self = nullptr;
  std::uintptr_t local = 0;
  std::uint64_t co_in[32] = {};
  std::uint64_t co_out[32] = {};
};
inline void preflight_entry(void* arg) {
  auto* p = static_cast<Preflight*>(arg);
  alignas(16) volatile unsigned char local[16];  // placed assuming an aligned entry
  local[0] = 1;
  p->local = reinterpret_cast<std::uintptr_t>(&local[0]);
  for (;;) gort::ctx::switch_context(*p->self, p->main);
}
inline void preflight_regs_entry(void* arg) {
  auto* p = static_cast<Preflight*>(arg);
  for (;;) lab02_regs_probe(p->self, &p->main, p->co_in, p->co_out);
}
}  // namespace detail

/// What the coroutine tests check first, so that a switch or make_context
/// bug is blamed on Task 1 or 2 rather than crashing deep inside a coroutine
/// (where the overflow handler run() installs replaces the grader's crash
/// report): "" if the switch keeps every callee-saved register and a fresh
/// context's alignas(16) local is 16-aligned, or if make_context is not
/// written yet (the test then fails on its own); else what is wrong.
inline std::string context_problem() {
  detail::Preflight p;
#if defined(LAB02_HAND_FRAME)
  {
    SwitchTarget target(detail::preflight_regs_entry, &p);
    p.self = &target.ctx;
    std::uint64_t in[32] = {}, out[32] = {};
    for (int i = 0; i < kLab02Regs; ++i) in[i] = 0xC0C0000000000000ull | std::uint64_t(i + 1);
    lab02_regs_probe(&p.main, &target.ctx, in, out);
    for (int i = 0; i < kLab02Regs; ++i) {
      if (out[i] != in[i]) {
        return std::string("the switch (Task 1) does not keep ") + kLab02RegNames[i] +
               ": the scheduler's own code would crash on it. Fix the switch first (test "
               "'switch: callee-saved registers survive a switch').";
      }
    }
  }
#endif
  Region region(64 * 1024);
  gort::ctx::Context fresh;
  try {
    gort::ctx::make_context(fresh, region.base, region.len, detail::preflight_entry, &p);
  } catch (...) {
    return "";
  }
  p.self = &fresh;
  gort::ctx::switch_context(p.main, fresh);
  gort::ctx::release_context(fresh);
  if (p.local % 16 == 0) return "";
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "make_context (Task 2) starts entry functions on a misaligned stack (an "
                "alignas(16) local landed at %#lx): coroutines would crash in SSE code or in the "
                "exception unwinder. Fix the first frame first (test 'make_context: the stack is "
                "16-byte aligned at entry').",
                static_cast<unsigned long>(p.local));
  return buf;
}

/// How a child process ended, and what it wrote to stderr.
struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
  bool timed_out = false;
  std::string err;
  std::string describe() const {
    if (timed_out) return "the child did not finish within 5 s";
    if (signaled)
      return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "exited with code " + std::to_string(exit_code);
  }
};

/// Runs @p body in a forked child with stdout and stderr captured (in err); the child exits 0
/// if body returns. Waits at most 5 s (then kills it).
inline ChildResult run_in_child(const std::function<void()>& body) {
  ChildResult r;
  int fds[2];
  if (pipe(fds) != 0) {
    r.err = "pipe failed";
    return r;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);  // nothing the child prints reaches the grader's own output
    dup2(fds[1], 2);
    // The test framework's crash handlers would report the child's (expected)
    // death as a failed test: the child dies the ordinary way instead.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) signal(sig, SIG_DFL);
    body();
    _exit(0);
  }
  close(fds[1]);
  char buf[4096];
  int waited_ms = 0;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, 100);
    if (n > 0) {
      ssize_t got = read(fds[0], buf, sizeof buf);
      if (got <= 0) break;
      r.err.append(buf, static_cast<std::size_t>(got));
    } else if ((waited_ms += 100) >= 5000) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace lab02
