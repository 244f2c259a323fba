// Goroutine stacks for the scheduler (see runtime/rt/gstack.hpp).
//
// Two kinds, as in Lab 02's StackPool, chosen by how many are live:
//   * guarded stacks (Lab 02's stack_alloc with a PROT_NONE page below) while
//     fewer than StackPool::default_guarded_limit() are live — an overflow
//     faults and is reported by the SIGSEGV handler;
//   * beyond that, unguarded stacks carved from large arena mappings (one
//     mapping per kArenaStacks stacks, so a million goroutines stay far below
//     vm.max_map_count), each with a canary word the scheduler checks at
//     every switch back to g0.
// Unlike StackPool, the canary of an arena stack sits in the 16 bytes just
// *below* its lowest usable byte — at the very top of the neighbouring
// stack's slot, whose top page that neighbour touches anyway. An overflow
// still overwrites it first, but a blocked goroutine costs one resident page
// (its top page) instead of two: this is what keeps a million goroutines at
// about 4.3 KiB each.
// Gs are never freed while the runtime runs (dead ones are reused with their
// stacks), so there is no free list to speak of: stacks are released all at
// once when gort::run ends.
#include "rt/gstack.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include "ctx/stack_pool.hpp"

namespace gort::rt {

namespace {

constexpr std::size_t kArenaStacks = 256;
constexpr std::size_t kCanaryGap = 16;  // bytes reserved at a slot's top for the next canary

struct Arena {
  char* base;
  std::size_t bytes;
};

std::mutex mu;
std::size_t guarded_live = 0;
std::size_t guarded_limit = 0;
std::size_t slot_size = 0;                 // arena slot size of the current arenas
std::vector<Arena> arenas;                 // all mapped arenas
std::vector<void*> free_slots;             // free unguarded stack bottoms (lo)
std::size_t next_in_arena = kArenaStacks;  // next unused slot of arenas.back()
std::atomic<std::size_t> live{0};

std::size_t page_size() {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

void write_canary(void* lo) {
  *reinterpret_cast<std::uint64_t*>(static_cast<char*>(lo) - 8) = ctx::kStackCanary;
}

ctx::Stack arena_stack(std::size_t size) {
  // caller holds mu
  if (slot_size != size) {  // a run with another stack size: start new arenas
    free_slots.clear();
    next_in_arena = kArenaStacks;
    slot_size = size;
  }
  void* lo = nullptr;
  if (!free_slots.empty()) {
    lo = free_slots.back();
    free_slots.pop_back();
  } else {
    if (next_in_arena == kArenaStacks) {
      // One leading page holds the first slot's canary.
      std::size_t bytes = page_size() + kArenaStacks * size;
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      arenas.push_back(Arena{static_cast<char*>(p), bytes});
      next_in_arena = 0;
    }
    lo = arenas.back().base + page_size() + next_in_arena * size;
    ++next_in_arena;
  }
  write_canary(lo);
  return ctx::Stack{lo, size - kCanaryGap, 0};
}

}  // namespace

ctx::Stack gstack_alloc(std::size_t size) {
  {
    std::lock_guard<std::mutex> lk(mu);
    if (guarded_limit == 0) guarded_limit = ctx::StackPool::default_guarded_limit();
    if (guarded_live >= guarded_limit) {
      ctx::Stack s = arena_stack(size);
      live.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    ++guarded_live;
  }
  try {
    ctx::Stack s = ctx::stack_alloc(size, true);
    live.fetch_add(1, std::memory_order_relaxed);
    return s;
  } catch (...) {
    std::lock_guard<std::mutex> lk(mu);
    --guarded_live;
    throw;
  }
}

void gstack_free(ctx::Stack& s) noexcept {
  if (s.lo == nullptr) return;
  live.fetch_sub(1, std::memory_order_relaxed);
  if (s.guard != 0) {
    ctx::stack_free(s);
    std::lock_guard<std::mutex> lk(mu);
    --guarded_live;
  } else {
    std::lock_guard<std::mutex> lk(mu);
    free_slots.push_back(s.lo);
    s = ctx::Stack{};
  }
}

std::size_t gstack_live() noexcept { return live.load(std::memory_order_relaxed); }

void gstack_release_all() noexcept {
  std::lock_guard<std::mutex> lk(mu);
  for (const Arena& a : arenas) ::munmap(a.base, a.bytes);
  arenas.clear();
  arenas.shrink_to_fit();
  free_slots.clear();
  free_slots.shrink_to_fit();
  next_in_arena = kArenaStacks;
  slot_size = 0;
}

}  // namespace gort::rt
