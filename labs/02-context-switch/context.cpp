// Lab 02, task 2 — make_context: the first frame of a new context.
//
// A context that has never run must look exactly like one that was suspended
// inside gort_switch_context_raw: when the first switch loads ctx.sp, pops
// "saved registers" and returns, it must land in gort_context_trampoline
// (switch_context.S) with the entry function and its argument in the
// registers the trampoline reads, and with the stack aligned so that the
// trampoline's call enters gort_context_start with rsp ≡ 8 (mod 16) (x86-64;
// on aarch64 sp must be 16-aligned at all times).
//
// Round the top of the stack (stack_lo + stack_size, which need not be
// aligned) down to 16 and write nothing above it. Lay the frame out from
// there downwards (see the handout, "The first frame", and its stack
// diagram): some zero padding, then the documented layout, from ctx.sp up:
//   +0 x87 CW 0x037F  +8 MXCSR 0x1F80  (the ABI defaults, not the creator's)
//   +16 r15 = 0  +24 r14 = 0  +32 r13 = arg  +40 r12 = entry  +48 rbx = 0
//   +56 rbp = 0  +64 return address = gort_context_trampoline
// Then set ctx.sp, ctx.stack_lo and ctx.stack_size.
#include <stdexcept>

#include "ctx/context.hpp"
#include "not_implemented.hpp"

extern "C" void gort_context_trampoline();

namespace gort::ctx {

void make_context(Context& ctx, void* stack_lo, std::size_t stack_size, EntryFn entry, void* arg) {
  // TODO(lab 02, task 2): check the arguments (std::invalid_argument for a null or
  // < 1 KiB stack), build the first frame at the aligned top of the stack, set ctx.
  (void)ctx;
  (void)stack_lo;
  (void)stack_size;
  (void)entry;
  (void)arg;
  throw gort::NotImplemented("lab 02 task 2: make_context");
}

}  // namespace gort::ctx
