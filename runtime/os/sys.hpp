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

}  // namespace gort::os
