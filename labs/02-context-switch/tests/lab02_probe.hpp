// Lab 02 grader helpers: register probes written in assembly.
//
// C++ cannot say "put this value in r12 across this call", so the probes are
// assembly: lab02_regs_probe(from, to, in, out) loads every callee-saved
// register from in[], calls lab02_switch(from, to) (switch_context), and when
// the switch returns stores the registers it finds into out[]. If a switch
// loses a register, out[i] != in[i] for that register. The probe saves and
// restores the caller's own values, so it is an ordinary function to C++.
// The definitions are in lab02_probe.cpp; both files are also used by
// scripts/check-aarch64.sh.
//
// lab02_frame_landing (x86-64) is where a *hand-built* first frame returns
// to: the Task 1 tests forge the frame themselves, following the layout the
// handout documents, so the switch is tested without make_context (Task 2).
// The landing records the registers the switch popped, then calls
// lab02_landing_continue() on a 16-aligned stack.
#pragma once

#include <cstdint>

#include "ctx/context.hpp"

#if defined(__x86_64__)
/// Names of the registers the probe checks, in in[]/out[] order.
inline constexpr const char* kLab02RegNames[] = {"rbx", "rbp", "r12", "r13", "r14", "r15"};
inline constexpr int kLab02Regs = 6;
#elif defined(__aarch64__)
inline constexpr const char* kLab02RegNames[] = {
    "x19",      "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
    "x29 (fp)", "d8",  "d9",  "d10", "d11", "d12", "d13", "d14", "d15"};
inline constexpr int kLab02Regs = 19;
#endif

extern "C" {
/// Calls gort::ctx::switch_context(*from, *to); the probes call this.
void lab02_switch(gort::ctx::Context* from, gort::ctx::Context* to);
/// Loads the callee-saved registers from @p in, switches from @p from to
/// @p to, and stores what the registers hold after the switch returns to @p out.
void lab02_regs_probe(gort::ctx::Context* from, gort::ctx::Context* to, const std::uint64_t* in,
                      std::uint64_t* out);
/// An EntryFn that records its stack pointer at entry in lab02_entry_sp,
/// aligns the stack to 16 and calls lab02_entry_continue(arg).
void lab02_record_sp_entry(void* arg);
/// Stack pointer recorded by lab02_record_sp_entry.
extern std::uint64_t lab02_entry_sp;
/// Defined by the test that uses lab02_record_sp_entry. Called (not jumped to)
/// on a re-aligned stack, so a misaligned entry is reported, not a crash.
void lab02_entry_continue(void* arg);

#if defined(__x86_64__)
/// What lab02_frame_landing found: rbx, rbp, r12, r13, r14, r15 (the order of
/// kLab02RegNames), then rsp, MXCSR (low 32 bits) and the x87 control word
/// (low 16 bits). Zero it before a switch into a hand-built frame.
extern std::uint64_t lab02_landing_regs[9];
/// The return address of a hand-built frame: stores lab02_landing_regs, aligns
/// the stack and calls lab02_landing_continue(); never returns.
void lab02_frame_landing();
#endif
/// Function and argument lab02_landing_continue() runs (set by lab02::HandFrame).
extern void (*lab02_landing_fn)(void*);
extern void* lab02_landing_arg;
/// Runs lab02_landing_fn(lab02_landing_arg); aborts if that returns.
void lab02_landing_continue();
}
