// Provided (Lab 02): the stack pool (see runtime/ctx/stack_pool.hpp for the policy).
//
// Arena layout (kArenaStacks slots of slot_ bytes each):
//   installed:           [guard page | stack_size() usable] × kArenaStacks
//                        slot_ = page + stack_size(); every slot's guard is installed
//                        (MADV_GUARD_INSTALL) when the arena is mapped, in one
//                        process_madvise call where the kernel allows it.
//   mapped_then_canary:  [one leading page] [stack_size() bytes] × kArenaStacks
//                        slot_ = stack_size(); a stack's usable bytes are its slot
//                        minus the kCanaryGap at the slot's top, which holds the
//                        canary of the slot above (the leading page holds slot 0's).
//
// Invariants, all under mu_:
//   mapped guarded stacks = live_guarded_ + guarded_cache_.size() ≤ guarded_limit_
//     in mapped_then_canary mode (a cached guarded stack still holds its two mappings);
//   every arena stack lies in exactly one arena and is either live or on arena_free_
//     — arenas are never unmapped before the pool dies, and a stack keeps its guard.
// System calls (stack_alloc's mmap + mprotect, an arena's mmap and guards) run
// outside the lock, so Ms creating goroutines do not serialise on them.
#include "ctx/stack_pool.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "os/sys.hpp"

#if defined(GORT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace gort::ctx {
namespace {
// Linux 6.13's madvise advice values, for headers that predate them.
constexpr int kMadvGuardInstall = 102;

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

bool probe_guard_install() noexcept {
  const std::size_t page = os::page_size();
  void* p = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  const bool ok = ::madvise(p, page, kMadvGuardInstall) == 0;
  ::munmap(p, 2 * page);
  return ok;
}
// Makes the first page of each of @p count slots (@p stride bytes apart, from
// @p base) a guard. One process_madvise call for them all where the kernel
// allows it on the calling process (Linux >= 6.13), else one madvise each.
bool install_guards(char* base, std::size_t count, std::size_t stride) noexcept {
  const std::size_t page = os::page_size();
  iovec iov[StackPool::kArenaStacks];
  if (count > StackPool::kArenaStacks) return false;
  for (std::size_t i = 0; i < count; ++i) iov[i] = iovec{base + i * stride, page};
  std::size_t done = 0;
  const long self = ::syscall(SYS_pidfd_open, ::getpid(), 0);
  if (self >= 0) {
    const long advised =
        ::syscall(SYS_process_madvise, static_cast<int>(self), iov, count, kMadvGuardInstall, 0);
    ::close(static_cast<int>(self));
    if (advised > 0) done = static_cast<std::size_t>(advised) / page;  // whole iovecs, in order
  }
  for (std::size_t i = done; i < count; ++i) {
    if (::madvise(iov[i].iov_base, page, kMadvGuardInstall) != 0) return false;
  }
  return true;
}
}  // namespace

bool kernel_guard_pages() noexcept {
  static const bool supported = probe_guard_install();
  return supported;
}

StackGuards best_stack_guards() noexcept {
  static const StackGuards best = [] {
    const char* env = std::getenv("GORT_STACK_GUARDS");
    if (env != nullptr && std::strcmp(env, "mapped") == 0) return StackGuards::mapped_then_canary;
    return kernel_guard_pages() ? StackGuards::installed : StackGuards::mapped_then_canary;
  }();
  return best;
}

const char* to_string(StackGuards g) noexcept {
  return g == StackGuards::installed ? "installed" : "mapped_then_canary";
}

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

StackPool::StackPool(std::size_t stack_size, std::size_t guarded_limit, std::size_t cache_limit,
                     StackGuards guards)
    : size_(0), guards_(guards), guarded_limit_(SIZE_MAX), cache_limit_(cache_limit), slot_(0) {
  if (stack_size == 0) throw std::invalid_argument("StackPool: stack_size must be > 0");
  // Arenas hold kArenaStacks slots: past this bound their size would wrap.
  if (stack_size > kMaxStackSize) {
    throw std::invalid_argument("StackPool: stack_size must be at most 1 GiB (Go's maximum too)");
  }
  size_ = os::round_up_to_pages(stack_size);
  if (guards_ == StackGuards::installed) {
    slot_ = os::page_size() + size_;
  } else {
    guarded_limit_ = guarded_limit != 0 ? guarded_limit : default_guarded_limit();
    slot_ = size_;
  }
}

StackPool::~StackPool() {
  for (Stack& s : guarded_cache_) stack_free(s);
  for (char* a : arenas_) ::munmap(a, arena_bytes());
}

std::size_t StackPool::arena_bytes() const noexcept {
  const std::size_t lead = guards_ == StackGuards::installed ? 0 : os::page_size();
  return lead + kArenaStacks * slot_;
}

Stack StackPool::acquire() {
  if (guards_ == StackGuards::mapped_then_canary) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!guarded_cache_.empty()) {
        Stack s = guarded_cache_.back();
        guarded_cache_.pop_back();
        ++live_guarded_;
        return s;
      }
    }
    // Not under the lock from here: acquire_mapped_guarded re-checks the limit.
    Stack s = acquire_mapped_guarded();
    if (s.lo != nullptr) return s;
  }
  return acquire_from_arena();
}

// A new stack from stack_alloc if the limit allows, else an empty Stack.
Stack StackPool::acquire_mapped_guarded() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (live_guarded_ + guarded_cache_.size() >= guarded_limit_) return Stack{};
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

Stack StackPool::acquire_from_arena() {
  const bool guarded = guards_ == StackGuards::installed;
  Stack s;
  s.size = guarded ? size_ : size_ - kCanaryGap;
  s.guard = guarded ? os::page_size() : 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!arena_free_.empty()) {
        s.lo = arena_free_.back();
        arena_free_.pop_back();
        if (guarded) {
          ++live_guarded_;
        } else {
          ++live_unguarded_;
        }
        break;
      }
    }
    add_arena();  // outside the lock; another thread may take its stacks first
  }
  if (!guarded) static_cast<std::uint64_t*>(s.lo)[-1] = kStackCanary;
  return s;
}

// Maps a new arena, installs the guard page of each of its slots (installed
// mode), and puts its stacks on arena_free_ so that they go out low to high:
// an unguarded stack's canary then lands in the top page of a neighbour that
// is in use, and resident, already.
void StackPool::add_arena() {
  const std::size_t page = os::page_size();
  const std::size_t bytes = arena_bytes();
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  char* base = static_cast<char*>(mem);
  if (guards_ == StackGuards::installed && !install_guards(base, kArenaStacks, slot_)) {
    ::munmap(base, bytes);
    throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lk(mu_);
  try {
    arenas_.reserve(arenas_.size() + 1);
    arena_free_.reserve(arena_free_.size() + kArenaStacks);
  } catch (...) {
    ::munmap(base, bytes);
    throw;
  }
  arenas_.push_back(base);
  // Past slot i's guard page, or past the arena's leading page: the same offset.
  for (std::size_t i = kArenaStacks; i-- > 0;) arena_free_.push_back(base + i * slot_ + page);
}

void StackPool::release(Stack& s) noexcept {
  if (s.lo == nullptr) return;
  forget_old_frames(s);
  const bool from_arena = s.guard == 0 || guards_ == StackGuards::installed;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (s.guard != 0) {
      --live_guarded_;
    } else {
      --live_unguarded_;
    }
    try {
      if (from_arena) {
        arena_free_.push_back(s.lo);
        s = Stack{};
        return;
      }
      if (guarded_cache_.size() < cache_limit_) {
        guarded_cache_.push_back(s);
        s = Stack{};
        return;
      }
    } catch (...) {
      // Out of memory growing a free list: an arena stack stays mapped, unused;
      // an mmap-guarded one is unmapped below.
      if (from_arena) {
        s = Stack{};
        return;
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
