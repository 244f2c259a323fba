// Lab 01, task 2 — gort::os::Thread, the runtime's M.
//
// Read runtime/os/os_thread.hpp (the contract). You build this on pthreads:
// pthread_attr_setstacksize for the stack, pthread_setname_np for the name,
// pthread_join to wait, pthread_getattr_np to read the stack size back.
// The constructor must not return before the new thread has published its
// tid: use a Note (task 1) for that start hand-shake. See the handout,
// section "Task 2".
#include "os/os_thread.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "not_implemented.hpp"
#include "os/note.hpp"

namespace gort::os {

Thread::Thread(std::function<void()> body, ThreadOptions options) {
  // TODO(lab 01, task 2): create the pthread with the requested stack size,
  // let it name itself and publish its tid, wait for that hand-shake, then
  // record handle_, tid_ and joinable_.
  (void)body;
  (void)options;
  throw gort::NotImplemented("lab 01 task 2: Thread::Thread");
}

Thread::~Thread() {
  // TODO(lab 01, task 2): destroying a joinable Thread is a bug: print a
  // message saying so (which tid, what to do) on stderr and std::abort().
}

// Provided.
Thread::Thread(Thread&& other) noexcept
    : handle_(other.handle_), tid_(other.tid_), joinable_(other.joinable_) {
  other.handle_ = pthread_t{};
  other.tid_ = 0;
  other.joinable_ = false;
}

// Provided.
Thread& Thread::operator=(Thread&& other) noexcept {
  if (this == &other) return *this;
  if (joinable_) {
    std::fprintf(stderr, "fatal error: gort::os::Thread move-assigned over a joinable thread\n");
    std::abort();
  }
  handle_ = std::exchange(other.handle_, pthread_t{});
  tid_ = std::exchange(other.tid_, 0);
  joinable_ = std::exchange(other.joinable_, false);
  return *this;
}

void Thread::join() {
  // TODO(lab 01, task 2): wait for the thread; std::logic_error if it is not
  // joinable or if it is the calling thread.
  throw gort::NotImplemented("lab 01 task 2: Thread::join");
}

// Provided.
pid_t Thread::current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

std::size_t Thread::current_stack_size() {
  // TODO(lab 01, task 2): ask pthreads for the calling thread's stack size.
  throw gort::NotImplemented("lab 01 task 2: Thread::current_stack_size");
}

}  // namespace gort::os
