// Lab 02: a self-checking program for the aarch64 switch, built and run under
// qemu-aarch64 by scripts/check-aarch64.sh (it does not need gtest/doctest, so
// it links statically with nothing but the Lab 02 sources).
//
// Checks: every callee-saved register (x19–x29, d8–d15) survives a switch in
// both directions (the register probe of the Lab 02 grader), FPCR is kept
// per context, a fresh context's entry runs with sp 16-byte aligned, a
// million switches keep state, and the N:1 scheduler runs 1000 coroutines in
// exact round-robin order. Exits 1 on the first failure, naming it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "coro/coro.hpp"
#include "ctx/context.hpp"
#include "ctx/stack.hpp"
#include "lab02_probe.hpp"

using gort::ctx::Context;
using gort::ctx::switch_context;

namespace {
int failures = 0;
void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

struct Fiber {
  gort::ctx::Stack stack;
  Context ctx;
  Fiber(gort::ctx::EntryFn fn, void* arg) : stack(gort::ctx::stack_alloc(256 * 1024)) {
    gort::ctx::make_context(ctx, stack.lo, stack.size, fn, arg);
  }
  ~Fiber() { gort::ctx::stack_free(stack); }
};

Context g_main;
Fiber* g_fiber = nullptr;
std::uint64_t co_in[32], co_out[32];
int co_rounds = 0;

void reg_entry(void*) {
  for (;;) {
    lab02_regs_probe(&g_fiber->ctx, &g_main, co_in, co_out);
    ++co_rounds;
  }
}

#if defined(__aarch64__)
std::uint64_t get_fpcr() {
  std::uint64_t v;
  asm volatile("mrs %0, fpcr" : "=r"(v));
  return v;
}
void set_fpcr(std::uint64_t v) { asm volatile("msr fpcr, %0" : : "r"(v)); }
#else
std::uint64_t fake_fpcr = 0;
std::uint64_t get_fpcr() { return fake_fpcr; }
void set_fpcr(std::uint64_t v) { fake_fpcr = v; }
#endif
constexpr std::uint64_t kRZ = 3ull << 22;
std::uint64_t fp_start = 0, fp_after = 0;
void fp_entry(void*) {
  fp_start = get_fpcr();
  set_fpcr(get_fpcr() | kRZ);
  switch_context(g_fiber->ctx, g_main);
  fp_after = get_fpcr();
  for (;;) switch_context(g_fiber->ctx, g_main);
}

std::uintptr_t align_local = 1;
long counter = 0;
void count_entry(void*) {
  for (;;) {
    ++counter;
    switch_context(g_fiber->ctx, g_main);
  }
}
}  // namespace

extern "C" void lab02_entry_continue(void*) {
  alignas(16) char buf[16];
  asm volatile("" : : "r"(buf) : "memory");
  align_local = reinterpret_cast<std::uintptr_t>(buf);
  for (;;) switch_context(g_fiber->ctx, g_main);
}

int main() {
  std::setvbuf(stdout, nullptr, _IONBF, 0);  // a crash must not swallow the results so far
  {
    Fiber f(reg_entry, nullptr);
    g_fiber = &f;
    std::uint64_t in[32], out[32];
    bool main_ok = true, co_ok = true;
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < kLab02Regs; ++i) {
        in[i] = 0xA5A5000000000000ull | (std::uint64_t(i + 1) << 16) | std::uint64_t(round);
        co_in[i] = 0x5A5A000000000000ull | (std::uint64_t(i + 1) << 24) | std::uint64_t(round);
      }
      lab02_regs_probe(&g_main, &f.ctx, in, out);
      for (int i = 0; i < kLab02Regs; ++i) {
        if (out[i] != in[i]) {
          std::printf("  %s lost in the context that switched away (round %d)\n", kLab02RegNames[i],
                      round);
          main_ok = false;
        }
        if (round > 0 && co_out[i] != ((co_in[i] & ~0xFFull) | std::uint64_t(round - 1))) {
          std::printf("  %s lost in the fiber (round %d)\n", kLab02RegNames[i], round);
          co_ok = false;
        }
      }
    }
    expect(main_ok, "callee-saved registers survive a switch (switching context)");
    expect(co_ok && co_rounds == 3, "callee-saved registers survive a switch (fiber)");
  }
  {
    const std::uint64_t before = get_fpcr();
    Fiber f(fp_entry, nullptr);
    g_fiber = &f;
    switch_context(g_main, f.ctx);
    expect(get_fpcr() == before, "FPCR of the switching context is restored");
    expect((fp_start & kRZ) == 0, "a fresh context starts round-to-nearest");
    switch_context(g_main, f.ctx);
    expect((fp_after & kRZ) == kRZ, "the fiber keeps its own FPCR rounding mode");
  }
  {
    Fiber f(lab02_record_sp_entry, nullptr);
    g_fiber = &f;
    switch_context(g_main, f.ctx);
    expect(lab02_entry_sp % 16 == 0, "sp is 16-byte aligned at the entry function");
    expect(align_local % 16 == 0, "an alignas(16) local is aligned");
  }
  {
    Fiber f(count_entry, nullptr);
    g_fiber = &f;
    for (long i = 0; i < 1000000; ++i) switch_context(g_main, f.ctx);
    expect(counter == 1000000, "a million round trips, state kept");
  }
  {
    gort::coro::Scheduler s;
    std::vector<gort::coro::Id> trace;
    for (int i = 0; i < 1000; ++i) {
      s.spawn([&trace] {
        for (int r = 0; r < 3; ++r) {
          trace.push_back(gort::coro::current_id());
          gort::coro::yield();
        }
      });
    }
    s.run();
    bool ok = trace.size() == 3000;
    for (std::size_t k = 0; ok && k < trace.size(); ++k) ok = trace[k] == k % 1000 + 1;
    expect(ok, "1000 coroutines run round-robin in exact order");
  }
  std::printf(failures == 0 ? "aarch64 context checks: all passed\n"
                            : "aarch64 context checks: %d FAILED\n",
              failures);
  return failures == 0 ? 0 : 1;
}
