// Lab 01 — the M layer: an OS thread, as the runtime's Ms will use it.
//
// An M ("machine") in Go is an OS thread that runs goroutines. gort's Ms are
// gort::os::Thread objects. Unlike std::thread, the stack size and the
// thread's name are chosen at spawn (the runtime wants small scheduler
// threads, and names such as "gort-m3" in `top -H` and gdb), and the kernel
// thread id is known as soon as the constructor returns (it identifies an M
// in the runtime's dumps and in the kernel's /proc/self/task).
//
// Invariant: a Thread that was started is joined exactly once; destroying a
// joinable Thread is a bug and aborts with a message saying so.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>

#include <pthread.h>

namespace gort::os {

/// How to create a thread. Zero/empty fields mean "the system default".
struct ThreadOptions {
  std::size_t stack_size = 0;  ///< bytes; rounded up to the page size; 0 = default (8 MiB)
  std::string name;            ///< shown by top -H and gdb; at most 15 characters are kept
};

/// An OS thread (pthread) that runs one function and is then joined.
class Thread {
 public:
  /// An empty, non-joinable Thread.
  Thread() noexcept = default;

  /// Starts a thread running @p body with @p options. Returns once the new
  /// thread is running and its tid() is known. Blocks the caller only for
  /// that start-up hand-shake. Throws std::system_error if the thread cannot
  /// be created (e.g. EAGAIN: too many threads) or the stack size is rejected,
  /// std::invalid_argument if @p body is empty. An exception escaping
  /// @p body terminates the process, as with std::thread.
  explicit Thread(std::function<void()> body, ThreadOptions options = {});

  /// Aborts the process with a message if the thread is still joinable.
  ~Thread();

  Thread(Thread&& other) noexcept;             ///< takes over @p other's thread
  Thread& operator=(Thread&& other) noexcept;  ///< aborts if *this is still joinable
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  /// Waits until the thread's function has returned and releases the thread.
  /// Throws std::logic_error if the Thread is not joinable, or if a thread
  /// tries to join itself.
  void join();

  /// True between a successful start and join().
  bool joinable() const noexcept { return joinable_; }

  /// The kernel thread id (gettid()) of the thread; 0 if none.
  pid_t tid() const noexcept { return tid_; }

  /// The kernel thread id of the calling thread.
  static pid_t current_tid() noexcept;

  /// The size in bytes of the calling thread's stack, as the system reports it.
  static std::size_t current_stack_size();

 private:
  pthread_t handle_{};
  pid_t tid_ = 0;
  bool joinable_ = false;
};

}  // namespace gort::os
