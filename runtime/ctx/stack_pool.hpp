// Lab 02 (provided) — the stack pool: how a runtime keeps a million stacks.
//
// Every stack a runtime hands to a goroutine or a coroutine comes from here:
// the Lab 02 coroutine scheduler owns one StackPool, and the Lab 03 runtime
// keeps one per gort::run (runtime/rt/gstack.cpp). Creating a goroutine must
// not cost system calls, every stack should fault when it overflows, and a
// process must be able to hold a million of them. Those needs meet here.
//
//  * Reuse. A stack given back is kept and handed out again: acquire() is
//    then a pop from a free list, no mmap, no madvise, no mprotect.
//
//  * The map-count wall. Linux counts memory *mappings* per process and
//    refuses new ones beyond vm.max_map_count (65530 by default). A guard
//    page made with mprotect(PROT_NONE) splits its mapping: a guarded stack
//    made that way (Lab 02's stack_alloc) costs two mappings, so such stacks
//    stop at about 32k, and the rest of the program needs mappings too.
//
//  * Two ways to guard (StackGuards; the pool picks the best one the kernel
//    offers, probed once per process by best_stack_guards()):
//
//    - `installed` (Linux >= 6.13). madvise(MADV_GUARD_INSTALL) turns a page
//      of an ordinary read-write mapping into a guard that faults on access
//      without splitting the mapping. Every stack is then carved from large
//      arena mappings (kArenaStacks stacks per mmap, consecutive arenas
//      usually merge into one mapping) and every stack has its guard page,
//      installed for a whole arena at once when it is mapped. A
//      million guarded stacks cost a handful of mappings and no memory
//      beyond the page tables their used pages need anyway.
//
//    - `mapped_then_canary` (older kernels). Guarded stacks from stack_alloc
//      while fewer than `guarded_limit()` are live — by default
//      (max_map_count − 8192) / 2, 28669 with default settings — and beyond
//      that *unguarded* stacks carved from arena mappings. An unguarded stack
//      cannot fault on overflow: running off its bottom silently overwrites
//      the stack below. Instead kStackCanary sits in the word just below its
//      lowest usable byte — at the very top of the neighbouring slot, whose
//      top page that neighbour touches anyway, so the canary costs no extra
//      resident page (which is why such a stack is kCanaryGap bytes shorter
//      than stack_size()). Whoever switches stacks checks canary_intact()
//      each time a stack's owner switches away: the coroutine scheduler
//      (coro.cpp) and the goroutine scheduler (rt/proc.cpp, via
//      rt::gstack_intact) report a stack overflow when it is gone. That
//      catches the overflow *after* it happened (the neighbour may already be
//      corrupted, and a frame that skips the canary word is missed), so it is
//      a diagnostic, not a protection.
//
//  * Frames larger than a guard page. A guard only catches an access that
//    lands in it; a function with a big local array can move SP past the
//    guard in one step. gort and every program linked with gort::gort are
//    compiled with -fstack-clash-protection, which makes the compiler touch
//    every page of a large frame in order, so the first touch below the
//    stack hits the guard.
//
// Go avoids the whole question by growing stacks: every function prologue
// compares SP with the G's stack bound and calls morestack, which copies the
// stack somewhere bigger; C++ frames cannot be moved (raw pointers into the
// stack are everywhere), so a C++ runtime picks a fixed size and guards it.
//
// Thread safety: every member function may be called from any thread at any
// time (the pool has an internal lock; the Lab 03 scheduler shares one pool
// among all Ms). canary_intact() is a static function of the stack alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "ctx/stack.hpp"

namespace gort::ctx {

/// How a StackPool guards its stacks (see the file comment).
enum class StackGuards {
  /// Every stack has a guard page installed with madvise(MADV_GUARD_INSTALL)
  /// inside an arena mapping: no mapping per stack, no limit.
  installed,
  /// Guarded mmap stacks (two mappings each) up to guarded_limit() live,
  /// then unguarded arena stacks with a canary below each.
  mapped_then_canary,
};

/// True if this kernel accepts madvise(MADV_GUARD_INSTALL) on anonymous
/// memory (Linux >= 6.13). Probed once per process on a scratch mapping
/// (older kernels answer EINVAL). Thread-safe; never throws.
bool kernel_guard_pages() noexcept;

/// The mode a StackPool uses by default: `installed` when kernel_guard_pages(),
/// else `mapped_then_canary`. The environment variable GORT_STACK_GUARDS=mapped
/// forces the fallback (to compare the two, or to test the older-kernel path).
/// Thread-safe; never throws.
StackGuards best_stack_guards() noexcept;

/// "installed" or "mapped_then_canary".
const char* to_string(StackGuards g) noexcept;

/// A thread-safe pool of equally sized stacks; see the file comment.
class StackPool {
 public:
  /// Stacks carved from one arena mapping.
  static constexpr std::size_t kArenaStacks = 256;
  /// The largest stack_size a pool accepts (1 GiB, Go's limit on a stack).
  static constexpr std::size_t kMaxStackSize = std::size_t{1} << 30;
  /// Bytes at the top of an unguarded arena slot that hold the canary of the
  /// slot above (so an unguarded stack is this much shorter than stack_size()).
  static constexpr std::size_t kCanaryGap = 16;

  /// A pool of stacks with stack_size() = @p stack_size rounded up to whole
  /// pages, guarded as @p guards says. @p guarded_limit caps the number of
  /// live mmap-guarded stacks in `mapped_then_canary` mode; 0 means
  /// default_guarded_limit(). @p cache_limit bounds how many released
  /// mmap-guarded stacks are kept for reuse (the rest are unmapped; arena
  /// stacks are always kept). Throws std::invalid_argument if stack_size is 0
  /// or above kMaxStackSize.
  explicit StackPool(std::size_t stack_size, std::size_t guarded_limit = 0,
                     std::size_t cache_limit = 4096, StackGuards guards = best_stack_guards());

  /// Unmaps every cached stack and every arena. Stacks still handed out must
  /// no longer be running (their memory goes away).
  ~StackPool();

  StackPool(const StackPool&) = delete;             ///< not copyable
  StackPool& operator=(const StackPool&) = delete;  ///< not copyable

  /// A stack, never running, whose usable bytes are stack_size() for a
  /// guarded stack (guard == one page) and stack_size() − kCanaryGap for an
  /// unguarded one (guard == 0, kStackCanary in the word below lo). A
  /// released stack of this pool if there is one, else a new one. Throws
  /// std::bad_alloc when the kernel refuses memory, mappings or a guard.
  Stack acquire();

  /// Gives back a stack from acquire() of this pool and empties @p s. The
  /// stack must not be running. Never throws (a stack that cannot be kept
  /// is unmapped, or for an arena stack, left unused).
  void release(Stack& s) noexcept;

  /// True unless @p s is an unguarded stack from a StackPool whose canary
  /// word (just below s.lo) is gone: it overflowed at some point. Guarded
  /// stacks always pass: their overflow faults instead. One load; safe from
  /// any thread; never throws.
  static bool canary_intact(const Stack& s) noexcept {
    return s.guard != 0 || s.lo == nullptr ||
           static_cast<const volatile std::uint64_t*>(s.lo)[-1] == kStackCanary;
  }

  /// Usable bytes of each guarded stack (whole pages).
  std::size_t stack_size() const noexcept { return size_; }
  /// How this pool guards its stacks.
  StackGuards guards() const noexcept { return guards_; }
  /// Maximum number of live mmap-guarded stacks (`mapped_then_canary` mode;
  /// SIZE_MAX in `installed` mode, where every stack is guarded).
  std::size_t guarded_limit() const noexcept { return guarded_limit_; }
  /// Stacks handed out and not yet released.
  std::size_t live() const noexcept;
  /// Of those, how many have a guard page.
  std::size_t live_guarded() const noexcept;

  /// The default guarded-stack limit of `mapped_then_canary` mode on this
  /// machine: (vm.max_map_count − 8192) / 2, at least 1024.
  static std::size_t default_guarded_limit() noexcept;

 private:
  Stack acquire_mapped_guarded();
  Stack acquire_from_arena();
  void add_arena();
  std::size_t arena_bytes() const noexcept;

  std::size_t size_;
  StackGuards guards_;
  std::size_t guarded_limit_;
  std::size_t cache_limit_;
  std::size_t slot_;  // distance between two arena stacks
  mutable std::mutex mu_;
  std::vector<Stack> guarded_cache_;  // released mmap-guarded stacks
  std::vector<void*> arena_free_;     // lo of released arena stacks
  std::vector<char*> arenas_;         // arena base addresses
  std::size_t live_guarded_ = 0;
  std::size_t live_unguarded_ = 0;
};

}  // namespace gort::ctx
