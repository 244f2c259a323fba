// Process-level facts about the machine that several layers need (provided,
// not a lab task): one place to ask, so no module keeps its own copy.
#pragma once

#include <cstddef>

namespace gort::os {

/// The size of a virtual-memory page in bytes (sysconf(_SC_PAGESIZE), read
/// once). Any thread may call it; async-signal-safe after the first call.
/// Never throws.
std::size_t page_size() noexcept;

/// @p bytes rounded up to a whole number of pages. Never throws.
inline std::size_t round_up_to_pages(std::size_t bytes) noexcept {
  const std::size_t page = page_size();
  return (bytes + page - 1) & ~(page - 1);
}

/// Writes the whole NUL-terminated @p s to @p fd, retrying short writes;
/// gives up silently on an error (it reports errors; there is no one to tell).
/// Async-signal-safe: the panic, fatal-error, deadlock, hang-dump and
/// stack-overflow paths all write through it. Never throws.
void write_all(int fd, const char* s) noexcept;

/// The same for @p n bytes at @p s.
void write_all(int fd, const char* s, std::size_t n) noexcept;

/// One spin-wait hint to the CPU (x86 `pause`, arm64 `yield`): cheaper for
/// the sibling hyper-thread and the memory bus than a bare re-load. The only
/// spin loops (SpinLock, the idle M's spin before parking) use it.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace gort::os
