// Lab 02, task 2 (solution) — make_context: the first frame of a new context.
//
// A context that has never run is resumed exactly like one that has: the
// raw switch loads its stack pointer, pops the saved state and returns. So
// make_context forges the frame a suspended switch would have left behind:
//
//   top (16-aligned) ── 0                  fake outer return address / padding
//                    ── 0                  padding (keeps the trampoline's call aligned)
//                    ── &gort_context_trampoline   the "return address"
//                    ── saved registers: entry and arg in the slots r12/r13
//                       (x19/x20 on aarch64) are loaded, everything else 0
//                    ── MXCSR 0x1F80 and x87 CW 0x037F (the ABI's defaults)
//   ctx.sp ───────────┘
//
// After `ret` the trampoline runs with rsp 16-byte aligned, so its `call`
// enters gort_context_start with rsp ≡ 8 (mod 16), exactly what a compiled
// function expects (alignas(16) locals and SSE spills rely on it). The fresh
// context starts from the default FP environment rather than inheriting the
// creator's, as a new thread does.
//
// gort_context_start never returns (it aborts if entry does), and the
// trampoline follows its call with a trap: nothing can ever `ret` past the
// top of the stack.
//
// With GORT_SWITCH_BACKEND_FCONTEXT the same interface is built on Boost.Context:
// make_fcontext forges the frame and jump_fcontext switches; see the second
// half of this file.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "ctx/context.hpp"

#if defined(GORT_SWITCH_BACKEND_FCONTEXT)
#include <boost/context/detail/fcontext.hpp>
#endif

namespace gort::ctx {
namespace {
constexpr std::size_t kMinStack = 1024;

char* checked_top(void* stack_lo, std::size_t stack_size) {
  if (stack_lo == nullptr) {
    throw std::invalid_argument("make_context: the stack is null (allocate one with stack_alloc)");
  }
  if (stack_size < kMinStack) {
    throw std::invalid_argument("make_context: a stack of " + std::to_string(stack_size) +
                                " bytes is too small (need at least 1024)");
  }
  auto top = reinterpret_cast<std::uintptr_t>(stack_lo) + stack_size;
  return reinterpret_cast<char*>(top & ~std::uintptr_t{15});
}
}  // namespace
}  // namespace gort::ctx

#if !defined(GORT_SWITCH_BACKEND_FCONTEXT)

extern "C" void gort_context_trampoline();

namespace gort::ctx {

void make_context(Context& ctx, void* stack_lo, std::size_t stack_size, EntryFn entry, void* arg) {
  char* top = checked_top(stack_lo, stack_size);
  if (entry == nullptr) throw std::invalid_argument("make_context: entry function is null");
  auto* w = reinterpret_cast<std::uint64_t*>(top);
  auto fn = reinterpret_cast<std::uint64_t>(entry);
  auto a = reinterpret_cast<std::uint64_t>(arg);
  auto tramp = reinterpret_cast<std::uint64_t>(&gort_context_trampoline);
#if defined(__x86_64__)
  // 2 words of padding, return address, rbp rbx r12 r13 r14 r15, mxcsr, fpu cw.
  w -= 11;
  const std::uint64_t frame[11] = {
      0x037F,  // x87 control word: the ABI default (round to nearest, all masked)
      0x1F80,  // MXCSR: the ABI default
      0,       // r15
      0,       // r14
      a,       // r13: the argument, for the trampoline
      fn,      // r12: the entry function, for the trampoline
      0,       // rbx
      0,       // rbp (0 also ends frame-pointer walks)
      tramp,   // return address: where the first switch "returns"
      0,       // padding: after the ret, rsp is 16-aligned here
      0,       // top word: a null return address for unwinders
  };
#elif defined(__aarch64__)
  // 176-byte saved frame (x19..x30, d8..d15, fpcr, pad) + 16 bytes of zeros above.
  w -= 24;
  std::uint64_t frame[24] = {};
  frame[0] = fn;      // x19
  frame[1] = a;       // x20
  frame[11] = tramp;  // x30 (lr): where `ret` goes
  frame[20] = 0;      // fpcr: round to nearest, no traps
#else
#error "gort: make_context supports x86-64 and aarch64 (use GORT_SWITCH_BACKEND=fcontext)"
#endif
  std::memcpy(w, frame, sizeof frame);
  ctx.sp = w;
  ctx.stack_lo = stack_lo;
  ctx.stack_size = stack_size;
}

}  // namespace gort::ctx

#else  // GORT_SWITCH_BACKEND_FCONTEXT

namespace bctx = boost::context::detail;

namespace gort::ctx {
namespace {
// Entry and argument live in the top 16 bytes of the stack, above the frame
// make_fcontext builds. The fresh context finds them from its own initial
// fcontext_t (which the first jump targeted): make_fcontext places that at a
// fixed distance below the 16-aligned stack pointer it is given, so the
// distance is the same for every context and is recorded once.
struct StartInfo {
  EntryFn entry;
  void* arg;
};

std::atomic<std::ptrdiff_t> g_info_offset{0};
thread_local void* t_jump_target = nullptr;

void fcontext_entry(bctx::transfer_t t) {
  // First time we run: record where the switcher stopped, as a resume would.
  *static_cast<void**>(t.data) = t.fctx;
  auto* info = reinterpret_cast<StartInfo*>(static_cast<char*>(t_jump_target) +
                                            g_info_offset.load(std::memory_order_relaxed));
  gort_context_start(info->entry, info->arg);
}
}  // namespace

void make_context(Context& ctx, void* stack_lo, std::size_t stack_size, EntryFn entry, void* arg) {
  char* top = checked_top(stack_lo, stack_size);
  if (entry == nullptr) throw std::invalid_argument("make_context: entry function is null");
  auto* info = reinterpret_cast<StartInfo*>(top - 16);
  info->entry = entry;
  info->arg = arg;
  char* sp = top - 32;
  std::size_t usable = static_cast<std::size_t>(sp - static_cast<char*>(stack_lo));
#if defined(__x86_64__)
  // make_fcontext records the *creator's* MXCSR and x87 control word in the
  // new frame; a fresh context starts from the ABI defaults instead, so it
  // gets them to record, and the creator's are put back.
  std::uint32_t mxcsr = 0;
  std::uint16_t x87cw = 0;
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(x87cw));
  const std::uint32_t default_mxcsr = 0x1F80;
  const std::uint16_t default_x87cw = 0x037F;
  asm volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(default_mxcsr), "m"(default_x87cw));
  bctx::fcontext_t f = bctx::make_fcontext(sp, usable, fcontext_entry);
  asm volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr), "m"(x87cw));
#else
  bctx::fcontext_t f = bctx::make_fcontext(sp, usable, fcontext_entry);
#endif
  g_info_offset.store(reinterpret_cast<char*>(info) - static_cast<char*>(f),
                      std::memory_order_relaxed);
  ctx.sp = f;
  ctx.stack_lo = stack_lo;
  ctx.stack_size = stack_size;
}

}  // namespace gort::ctx

extern "C" void gort_switch_context_raw(void** save_sp, void* load_sp) noexcept {
  gort::ctx::t_jump_target = load_sp;
  bctx::transfer_t t = bctx::jump_fcontext(load_sp, save_sp);
  // Resumed: whoever switched to us passed the address of their own save slot.
  *static_cast<void**>(t.data) = t.fctx;
}

#endif
