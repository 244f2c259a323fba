// Lab 02 benchmark: what one user-space context switch costs, next to
// Boost.Context's fcontext and a kernel thread switch, in the same run.
//
// Three figures, each the median of several repetitions:
//   * switch_asm (or switch_gort_fcontext in an fcontext build): two contexts
//     ping-pong through gort_switch_context_raw — the Lab 02 switch, raw;
//   * switch_fcontext: the same ping-pong through Boost.Context's
//     jump_fcontext, linked directly whatever the backend;
//   * thread_switch_futex: two OS threads pinned to one CPU bouncing futex
//     Notes (Lab 01's ping-pong) — a full kernel switch per hand-off.
// Also switch_context (the provided wrapper with its sanitizer hooks, which
// compile to nothing in a normal build) for the cost of the extra call.
// Output: `name value unit` lines, then ratio lines, then `#` comments.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "ctx/context.hpp"
#include "ctx/stack.hpp"
#include "pingpong.hpp"

#if defined(GORT_BENCH_HAVE_FCONTEXT)
#include <boost/context/detail/fcontext.hpp>
#endif

namespace {
using clock_type = std::chrono::steady_clock;
constexpr long kSwitchRounds = 1'000'000;  // round trips (2 switches each)
constexpr int kReps = 7;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---- raw gort switch ----------------------------------------------------------
void* g_main_sp = nullptr;
void* g_fiber_sp = nullptr;

void raw_entry(void*) {
  for (;;) gort_switch_context_raw(&g_fiber_sp, g_main_sp);
}

double bench_raw_switch() {
  gort::ctx::Stack s = gort::ctx::stack_alloc(64 * 1024);
  gort::ctx::Context c;
  gort::ctx::make_context(c, s.lo, s.size, raw_entry, nullptr);
  g_fiber_sp = c.sp;
  gort_switch_context_raw(&g_main_sp, g_fiber_sp);  // warm-up / start
  auto t0 = clock_type::now();
  for (long i = 0; i < kSwitchRounds; ++i) gort_switch_context_raw(&g_main_sp, g_fiber_sp);
  double ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  gort::ctx::stack_free(s);
  return ns / (2.0 * kSwitchRounds);
}

// ---- the provided wrapper ------------------------------------------------------
gort::ctx::Context g_wmain, g_wfiber;
void wrapped_entry(void*) {
  for (;;) gort::ctx::switch_context(g_wfiber, g_wmain);
}

double bench_wrapped_switch() {
  gort::ctx::Stack s = gort::ctx::stack_alloc(64 * 1024);
  gort::ctx::make_context(g_wfiber, s.lo, s.size, wrapped_entry, nullptr);
  gort::ctx::switch_context(g_wmain, g_wfiber);
  auto t0 = clock_type::now();
  for (long i = 0; i < kSwitchRounds; ++i) gort::ctx::switch_context(g_wmain, g_wfiber);
  double ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  gort::ctx::release_context(g_wfiber);
  gort::ctx::stack_free(s);
  return ns / (2.0 * kSwitchRounds);
}

#if defined(GORT_BENCH_HAVE_FCONTEXT)
namespace bc = boost::context::detail;
void fctx_entry(bc::transfer_t t) {
  for (;;) t = bc::jump_fcontext(t.fctx, nullptr);
}

double bench_fcontext() {
  gort::ctx::Stack s = gort::ctx::stack_alloc(64 * 1024);
  bc::fcontext_t f = bc::make_fcontext(s.hi(), s.size, fctx_entry);
  bc::transfer_t t = bc::jump_fcontext(f, nullptr);
  auto t0 = clock_type::now();
  for (long i = 0; i < kSwitchRounds; ++i) t = bc::jump_fcontext(t.fctx, nullptr);
  double ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  gort::ctx::stack_free(s);
  return ns / (2.0 * kSwitchRounds);
}
#endif
}  // namespace

int main() {
#if defined(GORT_SWITCH_BACKEND_FCONTEXT)
  const char* raw_name = "switch_gort_fcontext";
#else
  const char* raw_name = "switch_asm";
#endif
  std::vector<double> raw, wrapped, fctx, thread;
  for (int r = 0; r < kReps; ++r) {
    raw.push_back(bench_raw_switch());
    wrapped.push_back(bench_wrapped_switch());
#if defined(GORT_BENCH_HAVE_FCONTEXT)
    fctx.push_back(bench_fcontext());
#endif
  }
  for (int r = 0; r < 5; ++r) thread.push_back(gort::bench::futex_pingpong_ns_per_switch(50'000));
  const double m_raw = median(raw), m_wrapped = median(wrapped), m_thread = median(thread);
  std::printf("%s %.2f ns\n", raw_name, m_raw);
  std::printf("switch_context %.2f ns\n", m_wrapped);
#if defined(GORT_BENCH_HAVE_FCONTEXT)
  const double m_fctx = median(fctx);
  std::printf("switch_fcontext %.2f ns\n", m_fctx);
#endif
  std::printf("thread_switch_futex %.1f ns\n", m_thread);
#if defined(GORT_BENCH_HAVE_FCONTEXT)
  std::printf("switch_asm_vs_fcontext %.2f x\n", m_raw / m_fctx);
#endif
  std::printf("thread_vs_asm_switch %.1f x\n", m_thread / m_raw);
  std::printf(
      "# medians of %d runs of %ld round trips (switches) and 5 runs of 50000 futex round "
      "trips on one pinned CPU\n",
      kReps, kSwitchRounds);
#if defined(GORT_SWITCH_BACKEND_FCONTEXT)
  std::printf(
      "# fcontext build: switch_gort_fcontext is gort's switch built on fcontext, so the "
      "switch_asm_* ratios compare fcontext with itself (plus the data hand-off)\n");
#endif
  std::printf(
      "# targets: asm within 1.2x of fcontext, at least 50x cheaper than a thread switch\n");
  std::printf("# other runnable threads on the machine while measuring: %d\n",
              gort::bench::other_runnable_threads());
  return 0;
}
