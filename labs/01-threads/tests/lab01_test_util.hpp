// Lab 01 grader — helpers shared by the test files (not graded themselves).
//
// The tests never sleep to synchronise. When a test must know that another
// thread is blocked in the kernel (e.g. "the main thread is inside join()"),
// it reads that thread's scheduler state from /proc/self/task/<tid>/stat:
// 'S' means it sleeps interruptibly — for our primitives, in futex_wait.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace lab01_test {

/// The kernel tid of the calling thread, independent of the student's code.
inline pid_t gettid_raw() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

/// The one-letter scheduler state of thread @p tid of this process
/// ('R' running, 'S' sleeping, ...), or '?' if it cannot be read (gone).
inline char thread_state(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return '?';
  auto close = line.rfind(')');  // the name in parentheses may contain spaces
  if (close == std::string::npos || close + 2 >= line.size()) return '?';
  return line[close + 2];
}

/// Contents of /proc/self/task/<tid>/comm without the trailing newline.
inline std::string thread_comm(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

/// The CPUs this process may run on (at least one entry).
inline std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

/// Pins the calling thread to @p cpu (best effort: ignored if not allowed).
inline void pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace lab01_test
