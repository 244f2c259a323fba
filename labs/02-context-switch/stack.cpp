// Lab 02, task 3 — goroutine stacks: mmap, a guard page, lazy commit.
//
// stack_alloc reserves the stack with one anonymous mmap (read-write,
// MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK), one page larger
// when a guard page is asked for, and turns that lowest page into PROT_NONE
// with mprotect. Memory is committed lazily: do not touch the stack's pages
// (except that an unguarded stack gets kStackCanary in its lowest word).
// stack_free unmaps the whole region, guard page included.
#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <stdexcept>

#include "ctx/stack.hpp"
#include "not_implemented.hpp"

namespace gort::ctx {

Stack stack_alloc(std::size_t size, bool guard_page) {
  // TODO(lab 02, task 3): round size up to pages, mmap, mprotect the guard page,
  // fill in the Stack (lo above the guard), write the canary if unguarded.
  (void)size;
  (void)guard_page;
  throw gort::NotImplemented("lab 02 task 3: stack_alloc");
}

void stack_free(Stack& stack) noexcept {
  // TODO(lab 02, task 3): munmap the stack and its guard page; reset stack to {}.
  // (noexcept: the starter leaks instead of throwing.)
  (void)stack;
}

}  // namespace gort::ctx
