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
// Lay the frame out from the top of the stack downwards (see the handout's
// stack diagram): some zero padding, the trampoline's address where the
// return address goes, the saved-register slots in the order your switch
// pops them (entry and arg in the ones the trampoline moves, zeros
// elsewhere), and the default MXCSR (0x1F80) and x87 control word (0x037F).
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
