// Helpers shared by the Lab 05 grader tests: pipes, a watchdog that rescues a
// test whose goroutines stay blocked (so a missing hand-off is a FAIL with a
// message, not a hang), and running code in a forked child.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace lab05 {

/// A blocking pipe (no O_NONBLOCK: a read waits in the kernel).
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    ::close(r);
    ::close(w);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  /// Writes one byte @p c. Any thread.
  void put(char c) const {
    if (::write(w, &c, 1) != 1) std::abort();
  }
};

/// A plain thread that, unless disarmed within @p limit, runs @p rescue
/// (write the pipes the test's goroutines block on) and records that it had
/// to. The limit is only a bound for failing: a correct runtime never needs it.
class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::function<void()> rescue)
      : rescue_(std::move(rescue)), t_([this, limit] {
          std::unique_lock<std::mutex> lk(mu_);
          if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
            fired_.store(true);
            lk.unlock();
            rescue_();
          }
        }) {}
  ~Watchdog() {
    disarm();
    t_.join();
  }
  /// The test got through on its own.
  void disarm() {
    std::lock_guard<std::mutex> lk(mu_);
    done_ = true;
    cv_.notify_all();
  }
  bool fired() const { return fired_.load(); }

 private:
  std::function<void()> rescue_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread t_;
};

/// How a forked child ended: exit code, or minus the signal; its stderr.
struct Child {
  int code = -1;
  std::string err;
};

/// Runs @p f in a forked child with stderr captured, killed after @p limit_s
/// seconds (SIGALRM) so a hang fails instead of hanging the test.
template <class F>
Child in_child(F f, unsigned limit_s = 15) {
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

}  // namespace lab05
