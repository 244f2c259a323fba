// Lab 02 (provided) — the stack pool: how a runtime keeps a million stacks.
//
// Creating a goroutine must not cost two system calls, and a process must be
// able to hold a million of them. Both needs meet here.
//
//  * Reuse. A stack given back is kept (up to a bounded cache) and handed out
//    again: acquire() is then a pop from a free list, no mmap, no mprotect.
//
//  * The map-count wall. Linux counts memory *mappings* per process and
//    refuses new ones beyond vm.max_map_count (65530 by default). A guarded
//    stack is two mappings — the PROT_NONE guard and the read-write stack
//    above it never merge, having different permissions — so guarded stacks
//    alone stop at about 32k, and the rest of the program (libraries, heap
//    arenas, thread stacks) needs mappings too. The pool therefore hands out
//    guarded stacks (stack_alloc(size, true)) while fewer than
//    `guarded_limit()` are live — by default (max_map_count − 8192) / 2,
//    28669 with default settings — and beyond that carves *unguarded* stacks
//    out of large arena mappings (kArenaStacks stacks per mmap; consecutive
//    arenas with identical flags usually merge into one mapping, and even
//    when they do not, it is one mapping per kArenaStacks stacks).
//
//  * The trade-off. An unguarded stack cannot fault on overflow: running off
//    its bottom silently overwrites the stack below it. Each unguarded stack
//    carries kStackCanary in its lowest word instead, and the scheduler checks
//    it with canary_intact() whenever a goroutine switches away, reporting
//    "fatal error: stack overflow in goroutine N (canary)". That catches the
//    overflow *after* it happened (the neighbour may already be corrupted,
//    and an overflow that skips the bottom word is missed), so it is a
//    diagnostic, not a protection. The canary also touches the stack's bottom
//    page, so an unguarded stack costs one more resident page than a guarded
//    one. Go avoids the whole question by growing stacks: every function
//    prologue compares SP with the G's stack bound and calls morestack,
//    which copies the stack somewhere bigger; C++ code cannot be moved, so a
//    C++ runtime needs fixed-size stacks and this compromise.
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

/// A thread-safe pool of equally sized stacks; see the file comment.
class StackPool {
 public:
  /// Unguarded stacks carved from one arena mapping.
  static constexpr std::size_t kArenaStacks = 256;

  /// A pool of stacks with at least @p stack_size usable bytes each (rounded
  /// up to whole pages). @p guarded_limit caps the number of live guarded
  /// stacks; 0 means the default derived from /proc/sys/vm/max_map_count.
  /// @p cache_limit bounds how many released guarded stacks are kept for
  /// reuse (the rest are unmapped). Throws std::invalid_argument if
  /// stack_size is 0.
  explicit StackPool(std::size_t stack_size, std::size_t guarded_limit = 0,
                     std::size_t cache_limit = 4096);

  /// Unmaps every cached stack and every arena. Stacks still handed out must
  /// no longer be running (their memory goes away).
  ~StackPool();

  StackPool(const StackPool&) = delete;             ///< not copyable
  StackPool& operator=(const StackPool&) = delete;  ///< not copyable

  /// A stack of stack_size() usable bytes: a cached one if available, else a
  /// new guarded stack while guarded stacks are below the limit, else an
  /// unguarded one from an arena (with kStackCanary at its lowest word).
  /// Throws std::bad_alloc when the kernel refuses memory or mappings.
  Stack acquire();

  /// Gives back a stack from acquire() of this pool and empties @p s. Guarded
  /// stacks are cached up to the cache limit; unguarded ones return to their
  /// arena's free list. The stack must not be running. Never throws (a stack
  /// that cannot be cached is unmapped).
  void release(Stack& s) noexcept;

  /// True unless @p s is an unguarded stack whose canary word is gone (it
  /// overflowed at some point). Guarded stacks always pass: their overflow
  /// faults instead. One load; safe from any thread; never throws.
  static bool canary_intact(const Stack& s) noexcept {
    return s.guard != 0 || s.lo == nullptr ||
           *static_cast<const volatile std::uint64_t*>(s.lo) == kStackCanary;
  }

  /// Usable bytes of each stack.
  std::size_t stack_size() const noexcept { return size_; }
  /// Maximum number of live guarded stacks.
  std::size_t guarded_limit() const noexcept { return guarded_limit_; }
  /// Stacks handed out and not yet released.
  std::size_t live() const noexcept;
  /// Of those, how many have a guard page.
  std::size_t live_guarded() const noexcept;

  /// The default guarded-stack limit for this machine: (vm.max_map_count − 8192) / 2,
  /// at least 1024.
  static std::size_t default_guarded_limit() noexcept;

 private:
  std::size_t size_;
  std::size_t guarded_limit_;
  std::size_t cache_limit_;
  mutable std::mutex mu_;
  std::vector<Stack> guarded_cache_;  // released guarded stacks
  std::vector<void*> arena_free_;     // lo of free unguarded stacks
  std::vector<void*> arenas_;         // arena base addresses (each kArenaStacks * size_)
  std::size_t live_guarded_ = 0;
  std::size_t live_unguarded_ = 0;
};

}  // namespace gort::ctx
