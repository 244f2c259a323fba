// Goroutine stacks as the scheduler uses them (provided; runtime/rt/gstack.cpp).
//
// The scheduler asks for a stack when it creates a G and gives it back only
// when the runtime shuts down (dead Gs keep their stacks for reuse). Behind
// these calls: guarded stacks (Lab 02's stack_alloc) while the process has
// map count to spare (StackPool::default_guarded_limit()), then unguarded
// arena stacks with a canary word that the scheduler checks every time a
// goroutine switches back to g0 (gstack.cpp explains where the canary sits).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ctx/stack.hpp"

namespace gort::rt {

/// A stack of at least @p size usable bytes. Throws std::bad_alloc.
ctx::Stack gstack_alloc(std::size_t size);

/// Gives back a stack from gstack_alloc. Never throws.
void gstack_free(ctx::Stack& s) noexcept;

/// False if a stack without a guard page has been overrun: its canary, the
/// word just below its lowest usable byte, is gone. One load; always true
/// for guarded stacks (their overflow faults instead).
inline bool gstack_intact(const ctx::Stack& s) noexcept {
  if (s.guard != 0 || s.lo == nullptr) return true;
  return *reinterpret_cast<const volatile std::uint64_t*>(static_cast<const char*>(s.lo) - 8) ==
         ctx::kStackCanary;
}

/// Number of stacks handed out and not yet freed (for tests/diagnostics).
std::size_t gstack_live() noexcept;

/// Unmaps every arena once no stack is in use (end of gort::run).
void gstack_release_all() noexcept;

}  // namespace gort::rt
