// Lab 02 grader helpers: a raw context on its own stack, child processes for
// tests whose correct outcome is a crash, and sanitizer detection.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "ctx/context.hpp"
#include "ctx/stack.hpp"

#if defined(GORT_ASAN) || defined(GORT_TSAN)
/// Sanitizer builds install their own fault handlers and shadow stacks;
/// tests that deliberately crash a child process skip themselves there.
inline constexpr bool kLab02Sanitized = true;
#else
inline constexpr bool kLab02Sanitized = false;
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
    gort::ctx::stack_free(stack);
  }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
};

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
