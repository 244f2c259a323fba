// Lab 02 grader: the raw switch and make_context (tasks 1 and 2).
//
// Each test builds real contexts on real stacks and checks what the ABI
// promises across a call: callee-saved registers, the FP control words, and
// the alignment of the stack a fresh context starts on.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "ctx/context.hpp"
#include "coro/coro.hpp"
#include "ctx/stack.hpp"
#include "gort_grader.hpp"
#include "lab02_probe.hpp"
#include "lab02_test_util.hpp"

using gort::ctx::Context;
using gort::ctx::switch_context;

namespace {

// ---- callee-saved registers -------------------------------------------------
struct RegTest {
  Context main;
  lab02::Fiber* fiber = nullptr;
  std::uint64_t co_in[32] = {};
  std::uint64_t co_out[32] = {};
  int co_rounds = 0;
};

void reg_entry(void* arg) {
  auto* t = static_cast<RegTest*>(arg);
  for (;;) {
    lab02_regs_probe(&t->fiber->ctx, &t->main, t->co_in, t->co_out);
    ++t->co_rounds;
  }
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---- FP control state ---------------------------------------------------------
// x86-64: MXCSR rounding control is bits 13-14, x87 CW rounding control bits 10-11;
// "toward zero" sets both bits. aarch64: FPCR RMode is bits 22-23.
#if defined(__x86_64__)
std::uint32_t get_mxcsr() { return _mm_getcsr(); }
void set_mxcsr(std::uint32_t v) { _mm_setcsr(v); }
std::uint16_t get_x87cw() {
  std::uint16_t cw;
  asm volatile("fnstcw %0" : "=m"(cw));
  return cw;
}
void set_x87cw(std::uint16_t cw) { asm volatile("fldcw %0" : : "m"(cw)); }
constexpr std::uint32_t kMxcsrRoundMask = 0x6000;
constexpr std::uint64_t kMxcsrControl = 0xFFC0;
constexpr std::uint16_t kX87RoundMask = 0x0C00;
#elif defined(__aarch64__)
std::uint64_t get_fpcr() {
  std::uint64_t v;
  asm volatile("mrs %0, fpcr" : "=r"(v));
  return v;
}
void set_fpcr(std::uint64_t v) { asm volatile("msr fpcr, %0" : : "r"(v)); }
constexpr std::uint64_t kFpcrRoundMask = 3ull << 22;
#endif

struct FpTest {
  Context main;
  lab02::Fiber* fiber = nullptr;
  std::uint64_t start_ctl1 = 0, start_ctl2 = 0;  // what the fiber saw when it started
  std::uint64_t after_ctl1 = 0, after_ctl2 = 0;  // its own, after being resumed
  float third = 0;                               // 1/3 computed after resuming
};

float divide(float a, float b) {
  volatile float x = a, y = b;
  return x / y;
}

void fp_entry(void* arg) {
  auto* t = static_cast<FpTest*>(arg);
#if defined(__x86_64__)
  t->start_ctl1 = get_mxcsr();
  t->start_ctl2 = get_x87cw();
  set_mxcsr(get_mxcsr() | kMxcsrRoundMask);  // round toward zero
  set_x87cw(static_cast<std::uint16_t>(get_x87cw() | kX87RoundMask));
#elif defined(__aarch64__)
  t->start_ctl1 = get_fpcr();
  set_fpcr(get_fpcr() | kFpcrRoundMask);
#endif
  switch_context(t->fiber->ctx, t->main);
#if defined(__x86_64__)
  t->after_ctl1 = get_mxcsr();
  t->after_ctl2 = get_x87cw();
#elif defined(__aarch64__)
  t->after_ctl1 = get_fpcr();
#endif
  t->third = divide(1.0f, 3.0f);
  for (;;) switch_context(t->fiber->ctx, t->main);
}

// ---- alignment ------------------------------------------------------------------
struct AlignTest {
  Context main;
  lab02::Fiber* fiber = nullptr;
  std::uintptr_t local_addr = 1;
  bool ran = false;
};
AlignTest* g_align = nullptr;

// ---- a returning entry ----------------------------------------------------------
void returning_entry(void*) {}

}  // namespace

extern "C" void lab02_entry_continue(void* arg) {
  auto* t = static_cast<AlignTest*>(arg);
  alignas(16) float v[4];
#if defined(__x86_64__)
  // movaps faults if v is not 16-byte aligned: try it only when the entry's
  // stack pointer was right, so a wrong one is reported rather than a crash.
  if ((lab02_entry_sp + 8) % 16 == 0) {
    _mm_store_ps(v, _mm_set1_ps(1.5f));
  } else {
    volatile float* pv = v;  // scalar stores (the compiler would use movaps on v)
    for (int i = 0; i < 4; ++i) pv[i] = 1.5f;
  }
#else
  for (float& f : v) f = 1.5f;
#endif
  asm volatile("" : : "r"(v) : "memory");
  t->local_addr = reinterpret_cast<std::uintptr_t>(v);
  t->ran = v[0] == 1.5f && v[3] == 1.5f;
  for (;;) switch_context(t->fiber->ctx, t->main);
}

GRADED_TEST("switch: callee-saved registers survive a switch", 15, "Task 1: the raw switch") {
  RegTest t;
  lab02::Fiber fiber(reg_entry, &t);
  t.fiber = &fiber;
  std::uint64_t main_in[32] = {}, main_out[32] = {};
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < kLab02Regs; ++i) {
      main_in[i] = 0xA5A5000000000000ull | (std::uint64_t(i + 1) << 16) | std::uint64_t(round);
      t.co_in[i] = 0x5A5A000000000000ull | (std::uint64_t(i + 1) << 24) | std::uint64_t(round);
    }
    lab02_regs_probe(&t.main, &fiber.ctx, main_in, main_out);
    for (int i = 0; i < kLab02Regs; ++i) {
      INFO("register " << kLab02RegNames[i] << " of the context that switched away: set to "
                       << hex(main_in[i]) << " before the switch, " << hex(main_out[i])
                       << " after switching back (round " << round << ")");
      CHECK(main_out[i] == main_in[i]);
    }
    if (round > 0) {
      REQUIRE(t.co_rounds == round);
      for (int i = 0; i < kLab02Regs; ++i) {
        // The fiber loaded co_in of the previous round before it switched away.
        std::uint64_t want = (t.co_in[i] & ~0xFFull) | std::uint64_t(round - 1);
        INFO("register " << kLab02RegNames[i] << " of the fiber: set to " << hex(want) << ", found "
                         << hex(t.co_out[i]) << " when it was resumed");
        CHECK(t.co_out[i] == want);
      }
    }
  }
}

GRADED_TEST("switch: MXCSR and the x87 control word are kept per context", 10,
            "Task 1: the raw switch") {
  FpTest t;
#if defined(__x86_64__)
  const std::uint64_t main_ctl1 = get_mxcsr(), main_ctl2 = get_x87cw();
#elif defined(__aarch64__)
  const std::uint64_t main_ctl1 = get_fpcr(), main_ctl2 = 0;
#endif
  lab02::Fiber fiber(fp_entry, &t);
  t.fiber = &fiber;
  switch_context(t.main, fiber.ctx);  // the fiber sets "round toward zero" and switches back
#if defined(__x86_64__)
  const std::uint64_t now1 = get_mxcsr(), now2 = get_x87cw();
  INFO("MXCSR here was " << hex(main_ctl1) << " before the switch, " << hex(now1)
                         << " after: the fiber's rounding mode leaked into this context");
  // Only the control bits (6-15) are callee-saved; the status flags (0-5) are not.
  CHECK((now1 & kMxcsrControl) == (main_ctl1 & kMxcsrControl));
  INFO("x87 control word here was " << hex(main_ctl2) << " before, " << hex(now2) << " after");
  CHECK(now2 == main_ctl2);
  set_mxcsr(static_cast<std::uint32_t>(main_ctl1));  // repair, whatever happened
  set_x87cw(static_cast<std::uint16_t>(main_ctl2));
  CHECK_MESSAGE(
      (t.start_ctl1 & kMxcsrRoundMask) == 0,
      "a fresh context must start with round-to-nearest MXCSR, it saw " << hex(t.start_ctl1));
#elif defined(__aarch64__)
  const std::uint64_t now1 = get_fpcr();
  INFO("FPCR here was " << hex(main_ctl1) << " before the switch, " << hex(now1) << " after");
  CHECK(now1 == main_ctl1);
  set_fpcr(main_ctl1);
  (void)main_ctl2;
#endif
  switch_context(t.main, fiber.ctx);  // the fiber checks it still has its own mode
#if defined(__x86_64__)
  INFO("the fiber's MXCSR after being resumed: " << hex(t.after_ctl1));
  CHECK((t.after_ctl1 & kMxcsrRoundMask) == kMxcsrRoundMask);
  INFO("the fiber's x87 control word after being resumed: " << hex(t.after_ctl2));
  CHECK((t.after_ctl2 & kX87RoundMask) == kX87RoundMask);
#elif defined(__aarch64__)
  INFO("the fiber's FPCR after being resumed: " << hex(t.after_ctl1));
  CHECK((t.after_ctl1 & kFpcrRoundMask) == kFpcrRoundMask);
#endif
  // Rounding toward zero gives the float just below 1/3; to nearest, the one just above.
  float nearest = divide(1.0f, 3.0f);
  CHECK_MESSAGE(t.third < nearest, "1/3 in the fiber should round toward zero (got "
                                       << t.third << ", round-to-nearest gives " << nearest << ")");
}

GRADED_TEST("make_context: the stack is 16-byte aligned at entry", 10, "Task 2: the first frame") {
  AlignTest t;
  lab02::Fiber fiber(lab02_record_sp_entry, &t);
  t.fiber = &fiber;
  g_align = &t;
  switch_context(t.main, fiber.ctx);
  REQUIRE_MESSAGE(t.ran, "the entry function did not run to its switch back");
  const auto lo = reinterpret_cast<std::uintptr_t>(fiber.stack.lo);
  const auto hi = reinterpret_cast<std::uintptr_t>(fiber.stack.hi());
  INFO("stack pointer at the entry function's first instruction: " << hex(lab02_entry_sp));
  CHECK_MESSAGE(lab02_entry_sp > lo, "the entry function does not run on the context's stack");
  CHECK_MESSAGE(lab02_entry_sp < hi, "the entry function does not run on the context's stack");
#if defined(__x86_64__)
  CHECK_MESSAGE((lab02_entry_sp + 8) % 16 == 0,
                "at a function's entry rsp + 8 must be a multiple of 16 (the call pushed 8 bytes)");
#else
  CHECK_MESSAGE(lab02_entry_sp % 16 == 0, "sp must always be 16-byte aligned on aarch64");
#endif
  CHECK_MESSAGE(t.local_addr % 16 == 0,
                "an alignas(16) local in the entry function is at " << hex(t.local_addr));
}

GRADED_TEST("context: an entry function that returns is a fatal error", 7,
            "Task 2: the first frame") {
  auto r = lab02::run_in_child([] {
    Context main;
    lab02::Fiber fiber(returning_entry, nullptr);
    switch_context(main, fiber.ctx);
    std::fprintf(stderr, "control came back to the creator after the entry function returned\n");
  });
  INFO("child: " << r.describe() << "; its stderr:\n" << r.err);
  CHECK(r.signaled);
  CHECK(r.signal == SIGABRT);
  CHECK(r.err.find("fatal error: context entry function returned") != std::string::npos);
}

GRADED_TEST("make_context and coroutine misuse are reported clearly", 5, "Hints") {
  Context c;
  alignas(16) static char small[512];
  CHECK_THROWS_AS(gort::ctx::make_context(c, nullptr, 64 * 1024, returning_entry, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(gort::ctx::make_context(c, small, sizeof small, returning_entry, nullptr),
                  std::invalid_argument);

  // Coroutine calls outside a coroutine are logic errors that say so.
  auto message_of = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const std::logic_error& e) {
      return e.what();
    } catch (...) {
      return "(threw something other than std::logic_error)";
    }
    return "(did not throw)";
  };
  std::string y = message_of([] { gort::coro::yield(); });
  INFO("yield() outside a coroutine: " << y);
  CHECK(y.find("outside a coroutine") != std::string::npos);
  std::string x = message_of([] { gort::coro::exit(); });
  INFO("exit() outside a coroutine: " << x);
  CHECK(x.find("outside a coroutine") != std::string::npos);
  CHECK(gort::coro::current_id() == 0);

  // run() from inside a coroutine does not nest.
  gort::coro::Scheduler outer;
  std::string nested = "(the coroutine did not run)";
  outer.spawn([&] {
    gort::coro::Scheduler inner;
    nested = message_of([&] { inner.run(); });
  });
  outer.run();
  INFO("Scheduler::run() inside a coroutine: " << nested);
  CHECK(nested.find("inside a coroutine") != std::string::npos);
}
