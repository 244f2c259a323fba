// Process-level facts about the machine: see runtime/os/sys.hpp.
#include "os/sys.hpp"

#include <unistd.h>

namespace gort::os {

std::size_t page_size() noexcept {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace gort::os
