// Provided (Lab 02): the stack pool (see runtime/ctx/stack_pool.hpp for the policy).
//
// Invariants, all under mu_:
//   mapped guarded stacks = live_guarded_ + guarded_cache_.size() ≤ guarded_limit_
//     (a cached guarded stack still holds its two mappings);
//   every unguarded stack lies in exactly one arena, and is either live or on
//     arena_free_ — arenas are never unmapped before the pool dies.
// The system calls for a new guarded stack run outside the lock, after the
// slot has been reserved, so Ms creating goroutines do not serialise on mmap.
#include "ctx/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <new>
#include <stdexcept>

#if defined(GORT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace gort::ctx {
namespace {
// A context that finished never returned from its bottom frames, so ASan's
// shadow still marks their redzones as poisoned: clear it before the stack
// is used again, or the next owner's frames trip over stale poison.
void forget_old_frames(const Stack& s) {
#if defined(GORT_ASAN)
  __asan_unpoison_memory_region(s.lo, s.size);
#else
  (void)s;
#endif
}

std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

std::size_t StackPool::default_guarded_limit() noexcept {
  long max_maps = 65530;
  if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    if (std::fscanf(f, "%ld", &max_maps) != 1) max_maps = 65530;
    std::fclose(f);
  }
  long limit = (max_maps - 8192) / 2;
#if defined(GORT_TSAN)
  // Every TSan fiber (one per context, see context_switch.cpp) costs mappings
  // of its own: leave most of the map count to them.
  limit /= 8;
#endif
  return limit < 1024 ? 1024 : static_cast<std::size_t>(limit);
}

StackPool::StackPool(std::size_t stack_size, std::size_t guarded_limit, std::size_t cache_limit)
    : size_(0),
      guarded_limit_(guarded_limit != 0 ? guarded_limit : default_guarded_limit()),
      cache_limit_(cache_limit) {
  if (stack_size == 0) throw std::invalid_argument("StackPool: stack_size must be > 0");
  const std::size_t page = page_size();
  size_ = (stack_size + page - 1) & ~(page - 1);
}

StackPool::~StackPool() {
  for (Stack& s : guarded_cache_) stack_free(s);
  for (void* a : arenas_) ::munmap(a, kArenaStacks * size_);
}

Stack StackPool::acquire() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!guarded_cache_.empty()) {
      Stack s = guarded_cache_.back();
      guarded_cache_.pop_back();
      ++live_guarded_;
      return s;
    }
    if (live_guarded_ + guarded_cache_.size() >= guarded_limit_) {
      if (arena_free_.empty()) {
        void* base = ::mmap(nullptr, kArenaStacks * size_, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (base == MAP_FAILED) throw std::bad_alloc();
        arenas_.push_back(base);
        // Hand out from the low end first: pushed in reverse, popped low to high.
        for (std::size_t i = kArenaStacks; i-- > 0;) {
          arena_free_.push_back(static_cast<char*>(base) + i * size_);
        }
      }
      Stack s;
      s.lo = arena_free_.back();
      arena_free_.pop_back();
      s.size = size_;
      s.guard = 0;
      *static_cast<std::uint64_t*>(s.lo) = kStackCanary;
      ++live_unguarded_;
      return s;
    }
    ++live_guarded_;  // reserve the slot; map outside the lock
  }
  try {
    return stack_alloc(size_, true);
  } catch (...) {
    std::lock_guard<std::mutex> lk(mu_);
    --live_guarded_;
    throw;
  }
}

void StackPool::release(Stack& s) noexcept {
  if (s.lo == nullptr) return;
  forget_old_frames(s);
  if (s.guard == 0) {
    std::lock_guard<std::mutex> lk(mu_);
    --live_unguarded_;
    try {
      arena_free_.push_back(s.lo);
    } catch (...) {
      // Out of memory growing the free list: the stack stays mapped, unused.
    }
    s = Stack{};
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    --live_guarded_;
    if (guarded_cache_.size() < cache_limit_) {
      try {
        guarded_cache_.push_back(s);
        s = Stack{};
        return;
      } catch (...) {
        // fall through: unmap it
      }
    }
  }
  stack_free(s);
}

std::size_t StackPool::live() const noexcept {
  std::lock_guard<std::mutex> lk(mu_);
  return live_guarded_ + live_unguarded_;
}

std::size_t StackPool::live_guarded() const noexcept {
  std::lock_guard<std::mutex> lk(mu_);
  return live_guarded_;
}

}  // namespace gort::ctx
