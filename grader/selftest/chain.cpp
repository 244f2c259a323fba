// Tests of the grader's crash handler together with the runtime's own
// SIGSEGV handler (runtime/ctx/stack_guard.cpp), run by `make test` through
// `gradelib.py selftest --suite chain`. The grader main installs its crash
// handler first; the runtime installs its stack-overflow handler later, on
// top. A fault in a guard page must still be named "stack overflow" by the
// runtime, and any other fault must still crash the test (and, once the
// runtime forwards faults it does not own to the previous handler, carry the
// grader's crash evidence).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "ctx/stack.hpp"
#include "gort_grader.hpp"

GRADED_TEST("chain: a guard-page fault is still named a stack overflow", 1, "chain") {
  gort::ctx::install_overflow_handler();
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  char* base = static_cast<char*>(mem);
  REQUIRE(mprotect(base, page, PROT_NONE) == 0);
  // A one-page "stack" whose guard page is the page below it; touching the
  // guard is what running off the bottom of a goroutine stack does.
  gort::ctx::Stack s;
  s.lo = base + page;
  s.size = page;
  s.guard = page;
  gort::ctx::set_current_stack(&s, 42);
  *reinterpret_cast<volatile char*>(base + page / 2) = 1;
  FAIL("the write into the guard page did not fault");
}

GRADED_TEST("chain: another fault still crashes with the runtime's handler installed", 1, "chain") {
  gort::ctx::install_overflow_handler();
  volatile std::uintptr_t where = 0x20;
  *reinterpret_cast<volatile int*>(where) = 1;
  FAIL("the write to address 0x20 did not fault");
}
