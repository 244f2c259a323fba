// Process-level facts about the machine: see runtime/os/sys.hpp.
#include "os/sys.hpp"

#include <unistd.h>

#include <cstring>

namespace gort::os {

std::size_t page_size() noexcept {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

void write_all(int fd, const char* s, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_all(int fd, const char* s) noexcept { write_all(fd, s, std::strlen(s)); }

}  // namespace gort::os
