// Lab 02 grader: goroutine stacks (task 3) — usable, guarded, freed, lazy.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "ctx/context.hpp"
#include "ctx/stack.hpp"
#include "gort_grader.hpp"
#include "lab02_test_util.hpp"

using gort::ctx::Context;
using gort::ctx::Stack;
using gort::ctx::switch_context;

namespace {
const std::size_t kPage = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));

// Is [addr, addr + len) mapped at all? mincore fails with ENOMEM on unmapped pages.
bool mapped(const void* addr, std::size_t len) {
  unsigned char vec[64];
  auto a = reinterpret_cast<std::uintptr_t>(addr) & ~(kPage - 1);
  for (std::size_t off = 0; off < len; off += 64 * kPage) {
    std::size_t chunk = std::min<std::size_t>(len - off, 64 * kPage);
    if (mincore(reinterpret_cast<void*>(a + off), chunk, vec) != 0) return false;
  }
  return true;
}

// Pages of [addr, addr + len) resident in memory.
std::size_t resident_pages(const void* addr, std::size_t len) {
  std::size_t n = 0;
  unsigned char vec[256];
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  for (std::size_t off = 0; off < len; off += 256 * kPage) {
    std::size_t chunk = std::min<std::size_t>(len - off, 256 * kPage);
    if (mincore(reinterpret_cast<void*>(a + off), chunk, vec) != 0) return SIZE_MAX;
    for (std::size_t i = 0; i < (chunk + kPage - 1) / kPage; ++i) n += vec[i] & 1;
  }
  return n;
}

long rss_pages() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident;
}

// The permissions /proc/self/maps lists for the mapping containing addr ("" if none).
std::string perms_at(const void* addr) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::ifstream f("/proc/self/maps");
  std::string line;
  while (std::getline(f, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) == 3 && a >= lo && a < hi) {
      return perms;
    }
  }
  return "";
}

// ---- deep recursion ---------------------------------------------------------------
struct Deep {
  Context main;
  lab02::Fiber* fiber = nullptr;
  int depth = 0;
  std::uint64_t result = 0;
};

std::uint64_t __attribute__((noinline)) recurse(int n) {
  volatile unsigned char frame[192];
  for (auto& b : frame) b = static_cast<unsigned char>(n);
  if (n == 0) return 1;
  std::uint64_t below = recurse(n - 1);
  return below * 31 + frame[n % 192];
}

void deep_entry(void* arg) {
  auto* d = static_cast<Deep*>(arg);
  d->result = recurse(d->depth);
  for (;;) switch_context(d->fiber->ctx, d->main);
}

// ---- overflow -----------------------------------------------------------------------
volatile std::uint64_t g_limit = ~0ull;  // never reached: the recursion is "unbounded"

std::uint64_t __attribute__((noinline)) unbounded(std::uint64_t n) {
  volatile unsigned char frame[512];
  frame[0] = static_cast<unsigned char>(n);
  frame[511] = static_cast<unsigned char>(n);
  if (n == g_limit) return 0;
  return unbounded(n + 1) + frame[0] + frame[511];
}

void overflow_entry(void*) {
  unbounded(0);
  std::fprintf(stderr, "the unbounded recursion returned?\n");
}
}  // namespace

GRADED_TEST("stacks: deep recursion on a context stack works", 4, "Task 3: stacks") {
  const std::size_t size = 1 << 20;
  Deep d;
  d.depth = 2000;  // 2000 frames of > 200 bytes: about half of the 1 MiB stack
  lab02::Fiber fiber(deep_entry, &d, size);
  d.fiber = &fiber;
  REQUIRE(fiber.stack.size >= size);
  switch_context(d.main, fiber.ctx);
  std::uint64_t expect = recurse(d.depth);  // same computation on the thread's own stack
  CHECK_MESSAGE(d.result == expect, "the recursion on the context's stack computed "
                                        << d.result << ", on the thread's stack " << expect);
}

GRADED_TEST("stacks: overflowing into the guard page is reported as a stack overflow", 8,
            "Task 3: stacks") {
  Stack s = gort::ctx::stack_alloc(64 * 1024, true);
  CHECK_MESSAGE(s.guard >= kPage,
                "stack_alloc(size, true) made no guard page (guard = " << s.guard << ")");
  CHECK(reinterpret_cast<std::uintptr_t>(s.lo) % kPage == 0);
  CHECK(s.size >= 64 * 1024);
  std::string below = perms_at(static_cast<char*>(s.lo) - 1);
  std::string inside = perms_at(s.lo);
  CHECK_MESSAGE(below.rfind("---", 0) == 0,
                "the page just below the stack should be PROT_NONE (---p), /proc/self/maps says '"
                    << below << "'");
  CHECK_MESSAGE(inside.rfind("rw", 0) == 0,
                "the stack itself should be rw-p, it is '" << inside << "'");
  gort::ctx::stack_free(s);
  if (kLab02Sanitized) {
    MESSAGE(
        "sanitizer build: the child-process overflow half of this test is skipped "
        "(ASan/TSan own the SIGSEGV handler and the stack shadow)");
    return;
  }
  auto r = lab02::run_in_child([] {
    gort::ctx::install_overflow_handler();
    Context main;
    lab02::Fiber fiber(overflow_entry, nullptr, 64 * 1024, true);
    gort::ctx::set_current_stack(&fiber.stack, 42);
    switch_context(main, fiber.ctx);
  });
  INFO("child: " << r.describe() << "; its stderr:\n" << r.err);
  CHECK(r.signaled);
  CHECK(r.err.find("stack overflow in goroutine 42") != std::string::npos);
}

GRADED_TEST("stacks: stack_free unmaps the stack and its guard page", 4, "Task 3: stacks") {
  Stack s = gort::ctx::stack_alloc(256 * 1024, true);
  char* base = static_cast<char*>(s.lo) - s.guard;
  const std::size_t total = s.size + s.guard;
  REQUIRE(mapped(base, total));
  static_cast<char*>(s.lo)[0] = 1;  // touch both ends
  static_cast<char*>(s.hi())[-1] = 1;
  gort::ctx::stack_free(s);
  // Probe before anything else runs: a later allocation (even the test
  // framework's) may legitimately map new memory at the freed addresses.
  const bool guard_mapped = mapped(base, kPage);
  std::size_t first_mapped = SIZE_MAX;
  for (std::size_t off = 0; off < total; off += kPage) {
    if (mapped(base + off, kPage)) {
      first_mapped = off;
      break;
    }
  }
  CHECK_MESSAGE(s.lo == nullptr, "stack_free must reset the Stack to empty");
  CHECK(s.size == 0);
  CHECK_MESSAGE(!guard_mapped, "the guard page is still mapped after stack_free");
  CHECK_MESSAGE(first_mapped == SIZE_MAX,
                "page at offset " << first_mapped << " of the freed stack is still mapped");
  gort::ctx::stack_free(s);  // freeing an empty Stack does nothing
  Stack u = gort::ctx::stack_alloc(8 * 1024, false);
  CHECK(u.guard == 0);
  char* ubase = static_cast<char*>(u.lo);
  gort::ctx::stack_free(u);
  const bool u_mapped = mapped(ubase, kPage);
  CHECK_MESSAGE(!u_mapped, "an unguarded stack is still mapped after stack_free");
}

GRADED_TEST("stacks: stack_alloc returns the Stack its contract describes", 4, "Task 3: stacks") {
  CHECK_THROWS_AS(gort::ctx::stack_alloc(0), std::invalid_argument);
  // An odd size is rounded up to whole pages: Stack.size is what is usable.
  const std::size_t odd = 5 * kPage / 4 + 8;  // 1.25 pages and a bit
  Stack s = gort::ctx::stack_alloc(odd, true);
  CHECK_MESSAGE(reinterpret_cast<std::uintptr_t>(s.lo) % kPage == 0,
                "Stack.lo must be page-aligned (it is the page above the guard)");
  CHECK_MESSAGE(s.size == 2 * kPage, "stack_alloc(" << odd << ") must round up to whole pages: "
                                                    << "Stack.size should be " << 2 * kPage
                                                    << ", it is " << s.size);
  CHECK_MESSAGE(s.guard == kPage, "stack_alloc(size, true) must record its one guard page (guard = "
                                      << s.guard << ")");
  CHECK_MESSAGE(mapped(s.lo, s.size), "[lo, lo + size) is not all mapped");
  gort::ctx::stack_free(s);
  // An unguarded stack carries the canary in its lowest word.
  Stack u = gort::ctx::stack_alloc(odd, false);
  CHECK(u.guard == 0);
  CHECK(u.size == 2 * kPage);
  const std::uint64_t word = u.lo != nullptr ? *static_cast<std::uint64_t*>(u.lo) : 0;
  CHECK_MESSAGE(word == gort::ctx::kStackCanary,
                "an unguarded stack must hold kStackCanary (0x676f72745f535441) in its lowest "
                "word, the one the scheduler checks; it holds 0x"
                    << std::hex << word);
  gort::ctx::stack_free(u);
}

GRADED_TEST("stacks: memory is committed lazily", 4, "Task 3: stacks") {
  const std::size_t size = 64u << 20;  // 64 MiB
  const long before = rss_pages();
  Stack s = gort::ctx::stack_alloc(size, true);
  const long after = rss_pages();
  CHECK_MESSAGE(after - before < 64, "the resident set grew by "
                                         << (after - before) << " pages for a " << size / kPage
                                         << "-page stack: stack_alloc must not touch its pages");
  CHECK_MESSAGE(resident_pages(s.lo, s.size) <= 1,
                resident_pages(s.lo, s.size) << " pages of a fresh guarded stack are resident");
  // Touching one page commits about one page.
  static_cast<volatile char*>(s.hi())[-1] = 7;
  CHECK(resident_pages(s.lo, s.size) >= 1);
  CHECK(resident_pages(s.lo, s.size) <= 2);
  gort::ctx::stack_free(s);
  // An unguarded stack commits only the canary's page.
  Stack u = gort::ctx::stack_alloc(size, false);
  CHECK_MESSAGE(resident_pages(u.lo, u.size) <= 2,
                resident_pages(u.lo, u.size) << " pages of a fresh unguarded stack are resident");
  gort::ctx::stack_free(u);
}
