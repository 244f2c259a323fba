// Helpers shared by the Lab 03 grader tests: printing sequences in failure
// messages, and running a program in a child process (for behaviour that
// ends the process: panics and the deadlock report).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace lab03 {

/// "[1, 2, 3]" — for failure messages.
template <class T>
std::string str(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

/// What a child process did.
struct ChildResult {
  int exit_code = -1;  ///< exit status, or -1 if killed by a signal
  int signal = 0;      ///< the signal that killed it, 0 if it exited
  std::string out;     ///< everything it wrote to stdout
  std::string err;     ///< everything it wrote to stderr
  /// "exit code 2" / "killed by signal 11 (...)" for messages.
  std::string how() const {
    if (signal == SIGALRM) return "hung (killed after the child's time limit)";
    if (signal) return "killed by signal " + std::to_string(signal);
    return "exit code " + std::to_string(exit_code);
  }
};

inline std::string drain(int fd) {
  std::string s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  return s;
}

/// Runs @p body in a forked child with stdout/stderr captured. If body
/// returns, the child exits 0; an escaping exception exits 3 after printing
/// it. The child is killed after @p limit_s seconds (SIGALRM): a runtime
/// that hangs instead of reporting fails the test instead of hanging it.
template <class F>
ChildResult run_in_child(F body, unsigned limit_s = 8) {
  std::fflush(nullptr);
  int out[2], err[2];
  if (::pipe(out) != 0 || ::pipe(err) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::close(out[0]);
    ::close(err[0]);
    ::close(out[1]);
    ::close(err[1]);
    ::alarm(limit_s);
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: exception escaped: %s\n", e.what());
      std::fflush(nullptr);
      ::_exit(3);
    } catch (...) {
      std::fprintf(stderr, "child: unknown exception escaped\n");
      std::fflush(nullptr);
      ::_exit(3);
    }
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::close(out[1]);
  ::close(err[1]);
  ChildResult r;
  // stderr is small in these tests; read stdout first, then stderr.
  r.out = drain(out[0]);
  r.err = drain(err[0]);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace lab03
