// Lab 02 grader: the raw switch (task 1) and make_context (task 2).
//
// Each test builds real contexts on real stacks and checks what the ABI
// promises across a call: callee-saved registers, the FP control words, and
// the alignment of the stack a fresh context starts on. The Task 1 tests
// switch into a first frame the test forges itself (lab02::HandFrame, the
// layout the handout documents), so the switch is graded before make_context
// exists; the Task 2 tests run on plain test memory, so they need no
// stack_alloc (Task 3). Every register is checked by name, before anything
// that depends on it can crash.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "ctx/context.hpp"
#include "gort_grader.hpp"
#include "lab02_probe.hpp"
#include "lab02_test_util.hpp"

using gort::ctx::Context;
using gort::ctx::switch_context;

extern "C" void gort_context_trampoline();

namespace {

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
constexpr std::uint64_t kMxcsrControl = 0xFFC0;  // bits 6-15; 0-5 are status flags
constexpr std::uint16_t kX87RoundMask = 0x0C00;
constexpr std::uint32_t kMxcsrDefault = 0x1F80;  // all masked, round to nearest, no FTZ/DAZ
constexpr std::uint16_t kX87Default = 0x037F;    // all masked, 64-bit precision, to nearest
#elif defined(__aarch64__)
std::uint64_t get_fpcr() {
  std::uint64_t v;
  asm volatile("mrs %0, fpcr" : "=r"(v));
  return v;
}
void set_fpcr(std::uint64_t v) { asm volatile("msr fpcr, %0" : : "r"(v)); }
constexpr std::uint64_t kFpcrRoundMask = 3ull << 22;
#endif

// ---- the first switch into a hand-built frame --------------------------------------
struct FirstTest {
  Context main;
  Context* self = nullptr;
  bool ran = false;
};

void first_entry(void* arg) {
  auto* t = static_cast<FirstTest*>(arg);
  t->ran = true;
  for (;;) switch_context(*t->self, t->main);
}

// ---- callee-saved registers -------------------------------------------------
struct RegTest {
  Context main;
  Context* self = nullptr;
  std::uint64_t co_in[32] = {};
  std::uint64_t co_out[32] = {};
  int co_rounds = 0;
};

void reg_entry(void* arg) {
  auto* t = static_cast<RegTest*>(arg);
  for (;;) {
    lab02_regs_probe(t->self, &t->main, t->co_in, t->co_out);
    ++t->co_rounds;
  }
}

// ---- FP control state kept per context --------------------------------------------
struct FpTest {
  Context main;
  Context* self = nullptr;
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
  set_mxcsr(get_mxcsr() | kMxcsrRoundMask);  // round toward zero
  set_x87cw(static_cast<std::uint16_t>(get_x87cw() | kX87RoundMask));
#elif defined(__aarch64__)
  set_fpcr(get_fpcr() | kFpcrRoundMask);
#endif
  switch_context(*t->self, t->main);
#if defined(__x86_64__)
  t->after_ctl1 = get_mxcsr();
  t->after_ctl2 = get_x87cw();
#elif defined(__aarch64__)
  t->after_ctl1 = get_fpcr();
#endif
  t->third = divide(1.0f, 3.0f);
  for (;;) switch_context(*t->self, t->main);
}

// ---- make_context: a fresh context ------------------------------------------------
struct FreshTest {
  Context main;
  Context* self = nullptr;
  void* arg_seen = nullptr;
  int runs = 0;
  std::uint64_t start_ctl1 = 0, start_ctl2 = 0;  // FP control state at entry
};

void fresh_entry(void* arg) {
  auto* t = static_cast<FreshTest*>(arg);
#if defined(__x86_64__)
  t->start_ctl1 = get_mxcsr();  // before any floating-point work
  t->start_ctl2 = get_x87cw();
#elif defined(__aarch64__)
  t->start_ctl1 = get_fpcr();
#endif
  t->arg_seen = arg;
  ++t->runs;
  for (;;) switch_context(*t->self, t->main);
}

// ---- alignment ------------------------------------------------------------------
struct AlignTest {
  Context main;
  Context* self = nullptr;
  std::uintptr_t local_addr = 1;
  bool ran = false;
};

// ---- a returning entry ----------------------------------------------------------
void returning_entry(void*) {}

}  // namespace

// Called by lab02_record_sp_entry (after it recorded the entry's stack
// pointer) on a re-aligned stack.
extern "C" void lab02_entry_continue(void* arg) {
  auto* t = static_cast<AlignTest*>(arg);
  alignas(16) float v[4];
#if defined(__x86_64__)
  _mm_store_ps(v, _mm_set1_ps(1.5f));  // movaps: needs v 16-aligned
#else
  for (float& f : v) f = 1.5f;
#endif
  asm volatile("" : : "r"(v) : "memory");
  t->local_addr = reinterpret_cast<std::uintptr_t>(v);
  t->ran = v[0] == 1.5f && v[3] == 1.5f;
  for (;;) switch_context(*t->self, t->main);
}

GRADED_TEST("switch: the first switch into a hand-built frame pops it in the documented order", 7,
            "Task 1: the raw switch") {
#if defined(LAB02_HAND_FRAME)
  FirstTest t;
  // Each slot holds a value that names it, so a value found in the wrong
  // register says which slot it was popped from.
  const std::uint64_t regs[6] = {0xB0B0000000000006ull, 0xB0B0000000000007ull,
                                 0xB0B0000000000005ull, 0xB0B0000000000004ull,
                                 0xB0B0000000000003ull, 0xB0B0000000000002ull};
  const std::uint32_t mxcsr = 0x7F80;  // round toward zero, all exceptions masked
  const std::uint16_t x87cw = 0x0F7F;  // round toward zero, all exceptions masked
  lab02::HandFrame hf(first_entry, &t, regs, mxcsr, x87cw);
  t.self = &hf.ctx;
  std::uint64_t slot[lab02::kFrameWords];
  std::memcpy(slot, hf.frame, sizeof slot);
  const std::uint32_t main_mxcsr = get_mxcsr();
  const std::uint16_t main_cw = get_x87cw();
  {
    INFO(
        "if this crashes, your pops and the frame layout disagree: the switch must pop, from "
        "ctx.sp upwards, x87 CW (+0), MXCSR (+8), r15 (+16), r14 (+24), r13 (+32), r12 (+40), "
        "rbx (+48), rbp (+56), and resume at the return address (+64)");
    switch_context(t.main, hf.ctx);
  }
  const std::uint64_t cw_found = lab02_landing_regs[8] & 0xFFFF;
  const std::uint64_t mxcsr_found = lab02_landing_regs[7] & 0xFFFFFFFF;
  set_mxcsr(main_mxcsr);  // repair, whatever happened
  set_x87cw(main_cw);
  REQUIRE_MESSAGE(t.ran, "the function behind the hand-built frame did not run to its switch back");
  for (int i = 0; i < kLab02Regs; ++i) {
    const int want_slot = lab02::kRegSlot[i];
    const std::uint64_t got = lab02_landing_regs[i];
    std::string from =
        "from no slot of the frame (a register the switch does not load keeps its value from "
        "before the switch)";
    for (int s = 0; s < lab02::kFrameWords; ++s) {
      if (slot[s] == got) {
        from = std::string("the value of the ") + lab02::kSlotNames[s] + " slot (+" +
               std::to_string(8 * s) + ")";
      }
    }
    CHECK_MESSAGE(got == slot[want_slot], std::string(kLab02RegNames[i])
                                              << " should be popped from +" << 8 * want_slot << " ("
                                              << hex(slot[want_slot]) << "); it holds " << hex(got)
                                              << ", which is " << from);
  }
  CHECK_MESSAGE(lab02_landing_regs[6] == reinterpret_cast<std::uint64_t>(hf.frame + 9),
                "after the switch resumed at the return address, rsp should be ctx.sp + 72 (all "
                "nine words popped); it is ctx.sp + "
                    << static_cast<std::int64_t>(lab02_landing_regs[6] -
                                                 reinterpret_cast<std::uint64_t>(hf.frame)));
  CHECK_MESSAGE((mxcsr_found & kMxcsrControl) == mxcsr, "MXCSR should be loaded from +8 ("
                                                            << hex(mxcsr) << "); it was "
                                                            << hex(mxcsr_found));
  CHECK_MESSAGE(cw_found == x87cw, "the x87 control word should be loaded from +0 ("
                                       << hex(x87cw) << "); it was " << hex(cw_found));
#else
  FirstTest t;
  lab02::SwitchTarget target(first_entry, &t);
  t.self = &target.ctx;
  switch_context(t.main, target.ctx);
  CHECK(t.ran);
#endif
}

GRADED_TEST("switch: callee-saved registers survive a switch", 10, "Task 1: the raw switch") {
  RegTest t;
  lab02::SwitchTarget target(reg_entry, &t);
  t.self = &target.ctx;
  std::uint64_t main_in[32] = {}, main_out[32] = {};
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < kLab02Regs; ++i) {
      main_in[i] = 0xA5A5000000000000ull | (std::uint64_t(i + 1) << 16) | std::uint64_t(round);
      t.co_in[i] = 0x5A5A000000000000ull | (std::uint64_t(i + 1) << 24) | std::uint64_t(round);
    }
    {
      INFO(
          "if this crashes, the switch loses the stack pointer or the return address; the test "
          "'switch: the first switch into a hand-built frame...' checks the frame layout");
      // The probe loads main_in into the callee-saved registers, switches, and
      // stores what it finds when this context is resumed into main_out: no
      // register is relied on before it is compared here.
      lab02_regs_probe(&t.main, &target.ctx, main_in, main_out);
    }
    for (int i = 0; i < kLab02Regs; ++i) {
      CHECK_MESSAGE(main_out[i] == main_in[i],
                    "register " << std::string(kLab02RegNames[i])
                                << " of the context that switched away: set to " << hex(main_in[i])
                                << " before the switch, " << hex(main_out[i])
                                << " after switching back (round " << round << ")");
    }
    if (round > 0) {
      REQUIRE(t.co_rounds == round);
      for (int i = 0; i < kLab02Regs; ++i) {
        // The fiber loaded co_in of the previous round before it switched away.
        std::uint64_t want = (t.co_in[i] & ~0xFFull) | std::uint64_t(round - 1);
        CHECK_MESSAGE(t.co_out[i] == want, "register " << std::string(kLab02RegNames[i])
                                                       << " of the resumed context: set to "
                                                       << hex(want) << " before it switched away, "
                                                       << hex(t.co_out[i])
                                                       << " when it was resumed");
      }
    }
  }
}

GRADED_TEST("switch: MXCSR and the x87 control word are kept per context", 7,
            "Task 1: the raw switch") {
  FpTest t;
#if defined(__x86_64__)
  const std::uint64_t main_ctl1 = get_mxcsr(), main_ctl2 = get_x87cw();
#elif defined(__aarch64__)
  const std::uint64_t main_ctl1 = get_fpcr(), main_ctl2 = 0;
#endif
  lab02::SwitchTarget target(fp_entry, &t);
  t.self = &target.ctx;
  switch_context(t.main, target.ctx);  // the fiber sets "round toward zero" and switches back
#if defined(__x86_64__)
  const std::uint64_t now1 = get_mxcsr(), now2 = get_x87cw();
  set_mxcsr(static_cast<std::uint32_t>(main_ctl1));  // repair, whatever happened
  set_x87cw(static_cast<std::uint16_t>(main_ctl2));
  // Only the control bits (6-15) are callee-saved; the status flags (0-5) are not.
  CHECK_MESSAGE((now1 & kMxcsrControl) == (main_ctl1 & kMxcsrControl),
                "MXCSR here was " << hex(main_ctl1) << " before the switch, " << hex(now1)
                                  << " after: the other context's rounding mode leaked into this "
                                     "one (save MXCSR with stmxcsr, restore with ldmxcsr)");
  CHECK_MESSAGE(now2 == main_ctl2, "x87 control word here was "
                                       << hex(main_ctl2) << " before, " << hex(now2)
                                       << " after (save with fnstcw, restore with fldcw)");
#elif defined(__aarch64__)
  const std::uint64_t now1 = get_fpcr();
  set_fpcr(main_ctl1);
  CHECK_MESSAGE(now1 == main_ctl1,
                "FPCR here was " << hex(main_ctl1) << " before the switch, " << hex(now1));
  (void)main_ctl2;
#endif
  switch_context(t.main, target.ctx);  // the fiber checks it still has its own mode
#if defined(__x86_64__)
  CHECK_MESSAGE((t.after_ctl1 & kMxcsrRoundMask) == kMxcsrRoundMask,
                "the resumed context's MXCSR lost its own rounding mode: " << hex(t.after_ctl1));
  CHECK_MESSAGE(
      (t.after_ctl2 & kX87RoundMask) == kX87RoundMask,
      "the resumed context's x87 control word lost its rounding mode: " << hex(t.after_ctl2));
#elif defined(__aarch64__)
  CHECK_MESSAGE((t.after_ctl1 & kFpcrRoundMask) == kFpcrRoundMask,
                "the resumed context's FPCR lost its rounding mode: " << hex(t.after_ctl1));
#endif
  // Rounding toward zero gives the float just below 1/3; to nearest, the one just above.
  float nearest = divide(1.0f, 3.0f);
  CHECK_MESSAGE(t.third < nearest, "1/3 in the fiber should round toward zero (got "
                                       << t.third << ", round-to-nearest gives " << nearest << ")");
}

GRADED_TEST("make_context: the first switch into a fresh context runs entry(arg)", 5,
            "Task 2: the first frame") {
  FreshTest t;
  lab02::Region region(256 * 1024);
  Context fresh;
  gort::ctx::make_context(fresh, region.base, region.len, fresh_entry, &t);
  t.self = &fresh;
  CHECK_MESSAGE(fresh.stack_lo == region.base, "make_context must set ctx.stack_lo");
  CHECK_MESSAGE(fresh.stack_size == region.len, "make_context must set ctx.stack_size");
  const auto sp = reinterpret_cast<std::uintptr_t>(fresh.sp);
  const auto lo = reinterpret_cast<std::uintptr_t>(region.base);
  REQUIRE_MESSAGE((sp > lo && sp < lo + region.len),
                  "ctx.sp (" << hex(sp) << ") must point into the stack it was given");
  CHECK_MESSAGE(t.runs == 0, "make_context must not switch: entry already ran");
#if defined(LAB02_HAND_FRAME)
  const auto ret = static_cast<std::uint64_t*>(fresh.sp)[lab02::kSlotRet];
  REQUIRE_MESSAGE(ret == reinterpret_cast<std::uint64_t>(&gort_context_trampoline),
                  "the return-address slot (ctx.sp + 64) of the first frame holds "
                      << hex(ret) << ", not gort_context_trampoline ("
                      << hex(reinterpret_cast<std::uint64_t>(&gort_context_trampoline))
                      << "): the frame does not follow the documented layout");
#endif
  {
    INFO(
        "if this crashes, your pops and make_context's frame disagree, or the trampoline "
        "reads entry and arg from other registers than make_context put them in "
        "(the tests 'switch: ...' check the switch alone)");
    switch_context(t.main, fresh);
  }
  gort::ctx::release_context(fresh);
  REQUIRE_MESSAGE(t.runs == 1, "the entry function did not run on the first switch");
  CHECK_MESSAGE(t.arg_seen == &t, "entry ran with arg " << t.arg_seen << ", expected " << &t);
}

GRADED_TEST("make_context: a fresh context starts with the default MXCSR and x87 control word", 4,
            "Task 2: the first frame") {
  FreshTest t;
  lab02::Region region(256 * 1024);
  Context fresh;
#if defined(__x86_64__)
  const std::uint32_t main_mxcsr = get_mxcsr();
  const std::uint16_t main_cw = get_x87cw();
  // The creator runs with non-default modes: a fresh context must not inherit them.
  set_mxcsr(0xBF80);  // flush-to-zero, round down
  set_x87cw(0x077F);  // round down
  gort::ctx::make_context(fresh, region.base, region.len, fresh_entry, &t);
  t.self = &fresh;
  switch_context(t.main, fresh);
  set_mxcsr(main_mxcsr);
  set_x87cw(main_cw);
  gort::ctx::release_context(fresh);
  REQUIRE_MESSAGE(t.runs == 1, "the entry function did not run on the first switch");
  CHECK_MESSAGE((t.start_ctl1 & kMxcsrControl) == kMxcsrDefault,
                "a fresh context must start with MXCSR " << hex(kMxcsrDefault)
                                                         << " (the ABI default: all exceptions "
                                                            "masked, round to nearest, no "
                                                            "flush-to-zero); it started with "
                                                         << hex(t.start_ctl1));
  CHECK_MESSAGE(t.start_ctl2 == kX87Default,
                "a fresh context must start with x87 control word "
                    << hex(kX87Default)
                    << " (the ABI default: all exceptions masked, 64-bit precision, round to "
                       "nearest; 0 unmasks every exception, so a long double division traps); it "
                       "started with "
                    << hex(t.start_ctl2));
#elif defined(__aarch64__)
  const std::uint64_t main_fpcr = get_fpcr();
  set_fpcr(main_fpcr | kFpcrRoundMask);
  gort::ctx::make_context(fresh, region.base, region.len, fresh_entry, &t);
  t.self = &fresh;
  switch_context(t.main, fresh);
  set_fpcr(main_fpcr);
  gort::ctx::release_context(fresh);
  REQUIRE(t.runs == 1);
  CHECK_MESSAGE(t.start_ctl1 == 0,
                "a fresh context must start with FPCR 0, it saw " << hex(t.start_ctl1));
#endif
}

GRADED_TEST("make_context: the stack is 16-byte aligned at entry", 7, "Task 2: the first frame") {
  // A page-aligned stack, and two whose end is not 16-aligned (make_context
  // must round the top down, and write nothing above it).
  struct Case {
    std::size_t lo_off, size;
  };
  const Case cases[] = {{0, 64 * 1024}, {5, 64 * 1024 - 13}, {3, 64 * 1024 + 2}};
  for (const Case& c : cases) {
    AlignTest t;
    lab02::Region region(128 * 1024);
    char* lo = region.base + 4096 + c.lo_off;
    char* top = lo + c.size;
    std::memset(top, 0xEE, 32);  // must survive make_context
    Context fresh;
    gort::ctx::make_context(fresh, lo, c.size, lab02_record_sp_entry, &t);
    t.self = &fresh;
    bool above_intact = true;
    for (int i = 0; i < 32; ++i) above_intact &= static_cast<unsigned char>(top[i]) == 0xEE;
    INFO("stack [" << hex(reinterpret_cast<std::uintptr_t>(lo)) << ", "
                   << hex(reinterpret_cast<std::uintptr_t>(top)) << "), " << c.size << " bytes");
    CHECK_MESSAGE(above_intact, "make_context wrote above the end of the stack it was given");
    lab02_entry_sp = 0;
    switch_context(t.main, fresh);
    gort::ctx::release_context(fresh);
    REQUIRE_MESSAGE(t.ran, "the entry function did not run to its switch back");
    const auto ulo = reinterpret_cast<std::uintptr_t>(lo);
    const auto hi = reinterpret_cast<std::uintptr_t>(top);
    CHECK_MESSAGE((lab02_entry_sp > ulo && lab02_entry_sp < hi),
                  "the entry function does not run on the context's stack (its rsp was "
                      << hex(lab02_entry_sp) << ")");
#if defined(__x86_64__)
    CHECK_MESSAGE((lab02_entry_sp + 8) % 16 == 0,
                  "at the entry function's first instruction rsp is "
                      << hex(lab02_entry_sp)
                      << "; rsp + 8 must be a multiple of 16 (the call pushed 8 bytes)"
                      << (c.lo_off != 0 ? ": round the top of the stack down to 16 first" : ""));
#else
    CHECK_MESSAGE(lab02_entry_sp % 16 == 0, "sp must always be 16-byte aligned on aarch64");
#endif
    CHECK_MESSAGE(t.local_addr % 16 == 0,
                  "an alignas(16) local in the entry function is at " << hex(t.local_addr));
  }
}

GRADED_TEST("context: an entry function that returns is a fatal error", 4,
            "Task 2: the first frame") {
  auto r = lab02::run_in_child([] {
    Context main;
    lab02::RegionFiber fiber(returning_entry, nullptr);
    switch_context(main, fiber.ctx);
    std::fprintf(stderr, "control came back to the creator after the entry function returned\n");
  });
  INFO("child: " << r.describe() << "; its stderr:\n" << r.err);
  CHECK(r.signaled);
  CHECK(r.signal == SIGABRT);
  CHECK(r.err.find("fatal error: context entry function returned") != std::string::npos);
}

GRADED_TEST("make_context: a null or too-small stack is rejected", 2, "Task 2: the first frame") {
  Context c;
  lab02::Region region(64 * 1024);
  CHECK_THROWS_AS(gort::ctx::make_context(c, nullptr, 64 * 1024, returning_entry, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(gort::ctx::make_context(c, region.base, 1023, returning_entry, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(gort::ctx::make_context(c, region.base, 0, returning_entry, nullptr),
                  std::invalid_argument);
  // 1 KiB is enough (the contract rejects only < 1024 bytes).
  CHECK_NOTHROW(gort::ctx::make_context(c, region.base, 1024, returning_entry, nullptr));
  gort::ctx::release_context(c);
}
