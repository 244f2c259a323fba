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
/// An EntryFn that records its stack pointer at entry in lab02_entry_sp and
/// then tail-calls lab02_entry_continue(arg).
void lab02_record_sp_entry(void* arg);
/// Stack pointer recorded by lab02_record_sp_entry.
extern std::uint64_t lab02_entry_sp;
/// Defined by the test that uses lab02_record_sp_entry.
void lab02_entry_continue(void* arg);
}
