// Provided (Lab 02): naming stack overflows.
//
// A goroutine that runs off the bottom of its stack touches the PROT_NONE
// guard page below it and the kernel sends SIGSEGV. By default that kills the
// process with no word of why. This handler, which runs on a per-thread
// alternate signal stack (the faulting stack has no room left, by
// definition), checks whether the fault address lies in the guard page of
// the stack the thread is currently running on (set_current_stack, kept in
// a thread_local the scheduler updates on every switch) and, if so, writes
//     fatal error: stack overflow in goroutine <id>
// with write(2) (async-signal-safe: no malloc, no stdio) before the process
// dies of the signal. Any other fault restores the default action and is
// re-raised, so ordinary crashes still crash (and still dump core).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "ctx/stack.hpp"

namespace gort::ctx {
namespace {
struct CurrentStack {
  std::uintptr_t lo = 0;  // copied, so the caller's Stack may move or die
  std::uintptr_t guard = 0;
  std::uint64_t owner = 0;
};
thread_local CurrentStack t_current;

constexpr std::size_t kAltStackSize = 64 * 1024;

// The alternate signal stack of one thread, released when the thread ends.
struct AltStack {
  void* mem = nullptr;
  ~AltStack() {
    if (mem == nullptr) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    munmap(mem, kAltStackSize);
  }
};
thread_local AltStack t_altstack;

void write_all(const char* s, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void on_fault(int sig, siginfo_t* info, void*) {
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const std::uintptr_t lo = t_current.lo;
  if (lo != 0 && t_current.guard != 0) {
    if (addr < lo && addr >= lo - t_current.guard) {
      char buf[96] = "fatal error: stack overflow in goroutine ";
      std::size_t n = std::strlen(buf);
      char digits[24];
      std::size_t d = 0;
      std::uint64_t id = t_current.owner;
      do {
        digits[d++] = static_cast<char>('0' + id % 10);
        id /= 10;
      } while (id != 0);
      while (d > 0) buf[n++] = digits[--d];
      buf[n++] = '\n';
      write_all(buf, n);
      static const char kHint[] =
          "(it ran past the bottom of its stack into the guard page: deep recursion or a large "
          "local array; give goroutines bigger stacks or use the heap)\n";
      write_all(kHint, sizeof kHint - 1);
    }
  }
  // Die of the original signal: default action, then return and re-fault
  // (or re-raise for a signal sent by kill).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  if (info->si_code <= 0) raise(sig);
}

void install_process_handler() {
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
}
}  // namespace

void set_current_stack(const Stack* stack, std::uint64_t owner_id) noexcept {
  t_current.lo = stack != nullptr ? reinterpret_cast<std::uintptr_t>(stack->lo) : 0;
  t_current.guard = stack != nullptr ? stack->guard : 0;
  t_current.owner = owner_id;
}

void install_overflow_handler() {
  // Someone (a test framework, a library) may have replaced our handler since
  // the last call: check, and take SIGSEGV/SIGBUS back if so.
  struct sigaction cur {};
  if (sigaction(SIGSEGV, nullptr, &cur) != 0 || !(cur.sa_flags & SA_SIGINFO) ||
      cur.sa_sigaction != on_fault) {
    install_process_handler();
  }
  if (t_altstack.mem != nullptr) return;
  stack_t old{};
  if (sigaltstack(nullptr, &old) == 0 && !(old.ss_flags & SS_DISABLE) && old.ss_size > 0) {
    return;  // this thread already has one (e.g. a sanitizer's): keep it
  }
  void* mem =
      mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;  // overflows then die unnamed, as without the handler
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = kAltStackSize;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(mem, kAltStackSize);
    return;
  }
  t_altstack.mem = mem;
}

}  // namespace gort::ctx
