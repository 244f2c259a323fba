// Lab 02, task 3 (solution) — goroutine stacks: mmap, guard page, lazy commit.
//
// One mmap reserves guard + usable bytes of address space. MAP_NORESERVE
// keeps the kernel from counting the whole reservation against overcommit,
// and because anonymous pages are only materialised on first touch, a
// stack costs physical memory only for the pages its goroutine has used.
// MAP_STACK documents the intent (and lets the kernel pick suitable pages).
// The lowest page is then made PROT_NONE with mprotect: a stack that grows
// past its end faults there instead of overwriting the neighbouring memory,
// and the provided SIGSEGV handler turns that fault into a readable
// "stack overflow" report.
//
// Rejected: malloc'd stacks (no guard page possible, and the allocator would
// commit or fragment them), and MAP_GROWSDOWN (the kernel's auto-growing
// stacks are fragile and do not combine with a guard gap we control).
//
// A stack without a guard page gets kStackCanary in its lowest word instead;
// whoever switches away from it can check the word to detect an overrun
// after the fact (see StackPool).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <stdexcept>

#include "ctx/stack.hpp"

namespace gort::ctx {
namespace {
std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

Stack stack_alloc(std::size_t size, bool guard_page) {
  if (size == 0) throw std::invalid_argument("stack_alloc: size must be > 0");
  const std::size_t page = page_size();
  const std::size_t usable = (size + page - 1) & ~(page - 1);
  const std::size_t guard = guard_page ? page : 0;
  void* base = ::mmap(nullptr, usable + guard, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  if (guard != 0 && ::mprotect(base, guard, PROT_NONE) != 0) {
    ::munmap(base, usable + guard);
    throw std::bad_alloc();  // out of map count: the split needs a second mapping
  }
  Stack s;
  s.lo = static_cast<char*>(base) + guard;
  s.size = usable;
  s.guard = guard;
  if (guard == 0) *static_cast<std::uint64_t*>(s.lo) = kStackCanary;
  return s;
}

void stack_free(Stack& stack) noexcept {
  if (stack.lo == nullptr) return;
  ::munmap(static_cast<char*>(stack.lo) - stack.guard, stack.size + stack.guard);
  stack = Stack{};
}

}  // namespace gort::ctx
