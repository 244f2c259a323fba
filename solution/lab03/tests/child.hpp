// in_child: the solution-only tests' way to run code that must end the
// process (a panic, a fatal error, a deadlock report) and look at how it
// ended. Shared by test_runtime.cpp and the test_regress_*.cpp files.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace gort_test {

/// How a child ended: its exit code (3: the function threw), or minus the
/// signal that killed it; and everything it wrote to stderr.
struct Child {
  int code = -1;
  std::string err;
};

/// Runs @p f in a forked child whose stderr is captured. The child is killed
/// by SIGALRM after @p limit_s seconds, so a hang fails the test (code
/// -SIGALRM) instead of hanging it.
template <class F>
Child in_child(F f, unsigned limit_s = 20) {
  std::fflush(nullptr);
  int p[2];
  if (::pipe(p) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 2);
    ::close(p[0]);
    ::alarm(limit_s);
    try {
      f();
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(p[1]);
  Child c;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) c.err.append(buf, std::size_t(n));
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  c.code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  return c;
}

}  // namespace gort_test
