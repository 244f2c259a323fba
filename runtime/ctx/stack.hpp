// Lab 02 — goroutine stacks.
//
// A stack is an mmap'd region: the kernel commits pages only when they are
// first touched, so a 64 KiB stack of which a goroutine uses 3 KiB costs
// about 4 KiB of memory. Below the usable region sits a guard page mapped
// PROT_NONE: running off the bottom faults there, and the provided SIGSEGV
// handler (running on an alternate signal stack) reports
// "fatal error: stack overflow" naming the goroutine, instead of silently
// corrupting whatever memory lies below.
//
// Each mprotect'ed guard page is a separate memory mapping, and Linux allows
// 65530 mappings per process by default, so at most ~32k such stacks can be
// live at once. The provided StackPool (ctx/stack_pool.hpp), which the
// runtimes take their stacks from, guards a million stacks with
// madvise(MADV_GUARD_INSTALL) where the kernel has it (Linux >= 6.13) and
// otherwise falls back to unguarded stacks with a canary word checked on
// every switch (the Lab 02 handout, section "Stacks, guard pages, and the
// map-count wall").
#pragma once

#include <cstddef>
#include <cstdint>

namespace gort::ctx {

/// A stack: usable bytes [lo, lo + size); `guard` bytes of PROT_NONE below lo.
struct Stack {
  void* lo = nullptr;     ///< lowest usable byte (the guard page, if any, is below)
  std::size_t size = 0;   ///< usable bytes (whole pages, except a StackPool canary stack)
  std::size_t guard = 0;  ///< bytes of PROT_NONE guard below lo; 0 for an unguarded stack
  /// One past the highest usable byte: where a fresh stack starts growing down.
  void* hi() const noexcept { return static_cast<char*>(lo) + size; }
};

/// Maps a stack of at least @p size usable bytes, committed lazily, with one
/// guard page below it when @p guard_page is true. The result's `size` is
/// @p size rounded up to whole pages, `lo` is page-aligned, `guard` is the
/// guard's size (one page, or 0), and an unguarded stack holds kStackCanary
/// in its lowest word; nothing else of the stack is touched.
/// Throws std::bad_alloc if the kernel refuses the mapping (e.g. out of
/// memory or out of map count) and std::invalid_argument if size == 0.
Stack stack_alloc(std::size_t size, bool guard_page = true);

/// Unmaps a stack made by stack_alloc (guard page included) and resets it to
/// empty. Freeing an empty Stack does nothing. Never throws.
void stack_free(Stack& stack) noexcept;

/// The canary of a stack without a guard page: stack_alloc(size, false) writes
/// it at the stack's lowest word; a StackPool writes it in the word just below
/// an unguarded stack's lowest usable byte (StackPool::canary_intact checks it).
inline constexpr std::uint64_t kStackCanary = 0x676f72745f535441ull;  // "gort_STA"

/// Tells the SIGSEGV handler which stack the calling thread is running on and
/// which goroutine (or coroutine) id owns it, so a fault in its guard page is
/// reported as that goroutine's stack overflow. Pass nullptr when switching
/// back to the thread's own stack. The stack's bounds are copied, so @p stack
/// need not outlive the call. Provided (stack_guard.cpp); async-signal-safe.
void set_current_stack(const Stack* stack, std::uint64_t owner_id) noexcept;

/// Installs the process-wide SIGSEGV/SIGBUS handler that names stack
/// overflows (again, if something replaced it since), and once per thread
/// its alternate signal stack. The handlers it replaces are remembered: every
/// fault that is not a stack overflow goes to them (or, for the default
/// action, kills the process as usual). Idempotent; any thread may call it.
/// Provided.
void install_overflow_handler();

/// Puts back the SIGSEGV/SIGBUS handlers install_overflow_handler replaced,
/// for each signal whose handler is still ours (gort::run calls it when it
/// returns). Alternate signal stacks stay until their threads end. Any
/// thread may call it; never throws. Provided.
void uninstall_overflow_handler() noexcept;

}  // namespace gort::ctx
