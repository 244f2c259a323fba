// Goroutine stacks as the scheduler uses them (provided; runtime/rt/gstack.cpp).
//
// The scheduler asks for a stack when it creates a G and gives it back only
// when the runtime shuts down (dead Gs keep their stacks for reuse). Behind
// these calls is one ctx::StackPool per gort::run, guarded the best way the
// kernel allows (ctx::best_stack_guards()): on Linux >= 6.13 every stack has
// a guard page; on older kernels guarded stacks up to the map-count bound,
// then unguarded arena stacks with a canary the scheduler checks every time
// a goroutine switches away (runtime/ctx/stack_pool.hpp has the whole policy).
#pragma once

#include <cstddef>

#include "ctx/stack.hpp"
#include "ctx/stack_pool.hpp"

namespace gort::rt {

/// A stack of @p size usable bytes rounded up to whole pages (kCanaryGap
/// fewer for an unguarded one, see ctx::StackPool::acquire). Every call of
/// one gort::run must pass the same size (else std::logic_error). Any thread
/// may call it. Throws std::bad_alloc when out of memory or mappings.
ctx::Stack gstack_alloc(std::size_t size);

/// Gives back a stack from gstack_alloc; it must not be running. Never throws.
void gstack_free(ctx::Stack& s) noexcept;

/// False if a stack without a guard page has been overrun: its canary, the
/// word just below its lowest usable byte, is gone. One load; always true
/// for guarded stacks (their overflow faults instead).
inline bool gstack_intact(const ctx::Stack& s) noexcept { return ctx::StackPool::canary_intact(s); }

/// Unmaps every stack once none is in use (end of gort::run). Never throws.
void gstack_release_all() noexcept;

}  // namespace gort::rt
