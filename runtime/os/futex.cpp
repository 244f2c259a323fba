// futex(2) wrappers: see runtime/os/futex.hpp. Private futexes (FUTEX_PRIVATE_FLAG)
// because our words are never shared between processes.
#include "os/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gort::os {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex word must be exactly 32 bits");

FutexWait futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                     std::chrono::nanoseconds timeout) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout.count() >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    tsp = &ts;
  }
  long r = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word),
                     FUTEX_WAIT | FUTEX_PRIVATE_FLAG, expected, tsp, nullptr, 0);
  if (r == 0) return FutexWait::woken;
  switch (errno) {
    case EAGAIN:
      return FutexWait::mismatch;
    case ETIMEDOUT:
      return FutexWait::timed_out;
    case EINTR:
      return FutexWait::interrupted;
    default:
      std::fprintf(stderr, "fatal error: futex_wait failed: %s\n", std::strerror(errno));
      std::abort();
  }
}

int futex_wake(std::atomic<std::uint32_t>* word, int count) noexcept {
  long r = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word),
                     FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr, nullptr, 0);
  if (r < 0) {
    std::fprintf(stderr, "fatal error: futex_wake failed: %s\n", std::strerror(errno));
    std::abort();
  }
  return static_cast<int>(r);
}

}  // namespace gort::os
