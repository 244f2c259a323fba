// Lab 01 (solution) — gort::os::Thread, the runtime's M.
//
// A thin layer over pthreads that adds what the runtime needs and
// std::thread does not give:
//   * the stack size is chosen at spawn (pthread_attr_setstacksize), so the
//     runtime's own threads can be small;
//   * the thread names itself (pthread_setname_np on itself, so the name is
//     in /proc/self/task/<tid>/comm before anyone can look);
//   * the constructor returns only once the new thread runs and has published
//     its kernel tid — the start hand-shake. It uses a Note (the same
//     primitive an idle M sleeps on): the creator sleeps on it, the new thread
//     stores its tid and wakes it. The creator cannot miss that wake-up even
//     when the new thread gets there first, which is the point of a Note.
//
// Invariant: a started Thread is joined exactly once. Destroying (or
// move-assigning over) a joinable Thread is a bug in the caller and aborts
// with a message, like std::thread's std::terminate but saying why.
//
// Rejected: detaching threads (the runtime must know when an M is gone);
// reading the tid from pthread_t internals (not portable, and the kernel's
// tid is what /proc, gdb and perf show).
#include "os/os_thread.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "os/note.hpp"

namespace gort::os {
namespace {

// Lives on the creator's stack for the duration of the constructor only: the
// new thread copies what it needs out of it *before* waking the creator.
struct StartBlock {
  std::function<void()> body;
  std::string name;
  pid_t tid = 0;
  Note started;
};

void* thread_main(void* arg) noexcept {
  auto* start = static_cast<StartBlock*>(arg);
  std::function<void()> body = std::move(start->body);
  if (!start->name.empty()) {
    // The kernel keeps 15 characters plus the terminator; longer names fail
    // with ERANGE, so truncate instead.
    std::string name = start->name.substr(0, 15);
    pthread_setname_np(pthread_self(), name.c_str());
  }
  start->tid = Thread::current_tid();
  start->started.wakeup();  // after this line, `start` may be gone
  // noexcept: an exception escaping the body calls std::terminate, which
  // prints its type and what().
  body();
  return nullptr;
}

[[noreturn]] void die_joinable(const char* what, pid_t tid) {
  std::fprintf(stderr,
               "fatal error: gort::os::Thread %s while its thread (tid %d) is still joinable: "
               "call join() on every started Thread before it goes away\n",
               what, static_cast<int>(tid));
  std::abort();
}

std::size_t round_up_to_page(std::size_t n) {
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t p = page > 0 ? static_cast<std::size_t>(page) : 4096;
  return (n + p - 1) / p * p;
}

}  // namespace

Thread::Thread(std::function<void()> body, ThreadOptions options) {
  if (!body) throw std::invalid_argument("gort::os::Thread: empty body");
  pthread_attr_t attr;
  int err = pthread_attr_init(&attr);
  if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_attr_init");
  if (options.stack_size != 0) {
    err = pthread_attr_setstacksize(&attr, round_up_to_page(options.stack_size));
    if (err != 0) {
      pthread_attr_destroy(&attr);
      throw std::system_error(err, std::generic_category(),
                              "gort::os::Thread: stack size " + std::to_string(options.stack_size) +
                                  " rejected (below PTHREAD_STACK_MIN?)");
    }
  }
  StartBlock start;
  start.body = std::move(body);
  start.name = std::move(options.name);
  err = pthread_create(&handle_, &attr, thread_main, &start);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    throw std::system_error(err, std::generic_category(),
                            "gort::os::Thread: pthread_create failed");
  }
  start.started.sleep();
  tid_ = start.tid;
  joinable_ = true;
}

Thread::~Thread() {
  if (joinable_) die_joinable("destroyed", tid_);
}

Thread::Thread(Thread&& other) noexcept
    : handle_(other.handle_), tid_(other.tid_), joinable_(other.joinable_) {
  other.handle_ = pthread_t{};
  other.tid_ = 0;
  other.joinable_ = false;
}

Thread& Thread::operator=(Thread&& other) noexcept {
  if (this == &other) return *this;
  if (joinable_) die_joinable("move-assigned over", tid_);
  handle_ = std::exchange(other.handle_, pthread_t{});
  tid_ = std::exchange(other.tid_, 0);
  joinable_ = std::exchange(other.joinable_, false);
  return *this;
}

void Thread::join() {
  if (!joinable_) {
    throw std::logic_error(
        "gort::os::Thread::join: the Thread is not joinable (never started, already joined, "
        "or moved from)");
  }
  if (pthread_equal(handle_, pthread_self())) {
    throw std::logic_error("gort::os::Thread::join: a thread cannot join itself (deadlock)");
  }
  int err = pthread_join(handle_, nullptr);
  if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_join");
  joinable_ = false;
  handle_ = pthread_t{};
}

pid_t Thread::current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

std::size_t Thread::current_stack_size() {
  pthread_attr_t attr;
  int err = pthread_getattr_np(pthread_self(), &attr);
  if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_getattr_np");
  std::size_t size = 0;
  err = pthread_attr_getstacksize(&attr, &size);
  pthread_attr_destroy(&attr);
  if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_attr_getstacksize");
  return size;
}

}  // namespace gort::os
