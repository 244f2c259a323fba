// Lab 02 — execution contexts: what a goroutine switch saves and restores.
//
// A context is a suspended computation: a stack plus the registers the code
// running on it expects to find unchanged. Under the x86-64 System V ABI (and
// AAPCS64) a function call may clobber every *caller-saved* register, so a
// switch that looks like a function call only has to keep the *callee-saved*
// ones — rbx, rbp, r12–r15, the stack pointer, the return address, and the
// two FP control words (MXCSR, x87 CW). The raw switch pushes those onto the
// current stack, stores the stack pointer, loads the other one and pops.
// (Go's own gogo/mcall saves even less — SP, PC, BP and g — because Go's
// internal ABI has no callee-saved registers; see the Lab 02 handout.)
//
// Layers:
//   gort_switch_context_raw  — the student's assembly (switch_context.S)
//   make_context             — the student's stack set-up (context.cpp)
//   switch_context           — provided: the raw switch plus the sanitizer
//                              annotations ASan and TSan need (context_switch.cpp)
// The solution has a second backend behind the same three functions:
// Boost.Context's fcontext (GORT_SWITCH_BACKEND=fcontext).
#pragma once

#include <cstddef>

namespace gort::ctx {

/// A suspended execution context.
struct Context {
  /// Saved stack pointer (asm backend) or fcontext_t (fcontext backend);
  /// null for a context that has never been suspended (a thread's own stack
  /// before its first switch away).
  void* sp = nullptr;
  /// Bounds of this context's stack; null/0 for a thread's original stack.
  void* stack_lo = nullptr;
  std::size_t stack_size = 0;  ///< usable bytes of the stack (see stack_lo)
  /// The C++ runtime's per-thread exception state while this context is
  /// suspended (the Itanium ABI's __cxa_eh_globals: the stack of exceptions
  /// being handled and the count in flight). switch_context() saves the
  /// thread's into the context it leaves and installs the one of the context
  /// it resumes (zeroing it there: a running context's fields are empty), so
  /// a context may switch away inside a catch block or during unwinding.
  /// Empty for a fresh context; release_context() empties it.
  void* eh_caught = nullptr;
  unsigned int eh_uncaught = 0;  ///< see eh_caught
  /// Sanitizer bookkeeping, used only in ASan/TSan builds.
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;  ///< TSan fiber of this context (TSan builds)
  bool tsan_owned = false;     ///< tsan_fiber was created for it and must be destroyed
};

/// Entry function of a fresh context. It must not return: a context ends by
/// switching away for the last time. If it does return, the provided start
/// routine prints "fatal error: context entry function returned" and aborts,
/// so it can never fall off the top of its stack.
using EntryFn = void (*)(void* arg);

/// Prepares @p ctx so that the first switch_context() to it starts running
/// entry(arg) on the stack [stack_lo, stack_lo + stack_size), with the stack
/// pointer 16-byte aligned as the ABI requires at a function's entry.
/// The stack may start and end anywhere: its top is rounded down to 16 and
/// nothing at or above stack_lo + stack_size is written. The new context
/// starts with the ABI's default floating-point control state (x86-64: MXCSR
/// 0x1F80, x87 control word 0x037F; aarch64: FPCR 0), not its creator's.
/// Sets ctx.sp, ctx.stack_lo and ctx.stack_size. Does not switch. Any thread
/// may call it. Throws std::invalid_argument if the stack is null or smaller
/// than 1024 bytes.
///
/// The first frame it forges is the one gort_switch_context_raw leaves when
/// it suspends a context (a contract between the two, and what the grader
/// forges to test the switch alone). x86-64, 8-byte words from ctx.sp up:
///   +0 x87 CW (low 16 bits)  +8 MXCSR (low 32 bits)  +16 r15  +24 r14
///   +32 r13 (arg)  +40 r12 (entry)  +48 rbx  +56 rbp
///   +64 return address (gort_context_trampoline for a fresh context)
/// aarch64 (176 bytes): +0 x19,x20 … +80 x29,x30 (lr)  +96 d8,d9 … +144
/// d14,d15  +160 FPCR; entry in x19, arg in x20.
void make_context(Context& ctx, void* stack_lo, std::size_t stack_size, EntryFn entry, void* arg);

/// Saves the calling context into @p from and resumes @p to. Returns when
/// some other context switches back to @p from. Never throws; an exception
/// must never propagate across a switch. Exception *state* does travel with
/// the context: a context may switch away inside a catch block or in a
/// destructor run by unwinding, and resume on any thread, and
/// std::current_exception(), `throw;` and std::uncaught_exceptions() see
/// only its own exceptions (see Context::eh_caught).
void switch_context(Context& from, Context& to) noexcept;

/// Releases per-context sanitizer state (TSan fiber) of a context that will
/// never run again, and forgets its saved exception state. Call before reusing its stack for a new
/// make_context().
void release_context(Context& ctx) noexcept;

}  // namespace gort::ctx

extern "C" {
/// The raw switch (Lab 02, assembly): pushes the callee-saved state onto the
/// current stack in the frame layout documented at make_context, stores the
/// stack pointer to *save_sp, loads load_sp, pops the state saved there
/// (loading MXCSR's control bits and the x87 control word from its slots),
/// then resumes the other context at the frame's return address with the
/// whole frame popped.
void gort_switch_context_raw(void** save_sp, void* load_sp) noexcept;

/// The C++ function a fresh context starts in (provided; make_context arranges
/// for the first switch to reach it through the assembly trampoline).
[[noreturn]] void gort_context_start(gort::ctx::EntryFn entry, void* arg) noexcept;

/// What the Lab 02 starter's assembly stubs call (provided): prints
/// "fatal error: not implemented yet: <what>" and aborts. Assembly cannot throw
/// gort::NotImplemented, so an unfinished switch fails fast this way instead.
[[noreturn]] void gort_lab02_not_implemented(const char* what) noexcept;
}
