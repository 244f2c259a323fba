// Provided (Lab 02): naming stack overflows.
//
// A goroutine that runs off the bottom of its stack touches the guard page
// below it (PROT_NONE, or a MADV_GUARD_INSTALL guard: see stack_pool.hpp) and
// the kernel sends SIGSEGV. By default that kills the process with no word of
// why. This handler, which runs on a per-thread alternate signal stack (the
// faulting stack has no room left, by definition), checks whether the fault
// address lies in the guard page of the stack the thread is currently
// running on (set_current_stack, kept in a thread_local the scheduler
// updates on every switch) and, if so, writes
//     fatal error: stack overflow in goroutine <id>
// with write(2) (async-signal-safe: no malloc, no stdio) before the process
// dies of the signal.
//
// The handler is a guest in the program's process: any other fault goes to
// the SIGSEGV/SIGBUS handler that was installed before ours (so a program's
// own crash reporter, or its handler for a PROT_NONE page of its own, keeps
// working inside gort::run), or, if there was none, kills the process the
// ordinary way (and still dumps core). uninstall_overflow_handler() puts the
// previous handlers back; gort::run calls it when it returns.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>

#include "ctx/stack.hpp"
#include "os/sys.hpp"

namespace gort::ctx {
namespace {
struct CurrentStack {
  std::uintptr_t lo = 0;  // copied, so the caller's Stack may move or die
  std::uintptr_t guard = 0;
  std::uint64_t owner = 0;
};
// initial-exec (as t_eh_globals in context_switch.cpp): written on every
// switch, so one store at a fixed offset from the thread pointer.
[[gnu::tls_model("initial-exec")]] thread_local CurrentStack t_current;

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

constexpr int kSignals[] = {SIGSEGV, SIGBUS};

// The handlers ours replaced, per signal (written under g_install_mu before
// ours is installed for that signal; read by on_fault).
struct sigaction g_prev_segv {};
struct sigaction g_prev_bus {};
std::mutex g_install_mu;

struct sigaction& previous(int sig) {
  return sig == SIGBUS ? g_prev_bus : g_prev_segv;
}

void report_overflow(std::uint64_t id) {
  char buf[96] = "fatal error: stack overflow in goroutine ";
  std::size_t n = std::strlen(buf);
  char digits[24];
  std::size_t d = 0;
  do {
    digits[d++] = static_cast<char>('0' + id % 10);
    id /= 10;
  } while (id != 0);
  while (d > 0) buf[n++] = digits[--d];
  buf[n++] = '\n';
  os::write_all(2, buf, n);
  static const char kHint[] =
      "(it ran past the bottom of its stack into the guard page: deep recursion or a large "
      "local array; give goroutines bigger stacks or use the heap)\n";
  os::write_all(2, kHint, sizeof kHint - 1);
}

// Die of the signal: default action, then return and re-fault (or re-raise
// for a signal sent by kill/raise, which would not come back by itself).
void die_of(int sig, const siginfo_t* info) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  if (info->si_code <= 0) raise(sig);
}

// Hands a fault that is not a stack overflow to the handler that was there
// before ours, as the kernel would have called it.
void forward(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction prev = previous(sig);
  const bool has_info = (prev.sa_flags & SA_SIGINFO) != 0;
  if (!has_info && prev.sa_handler == SIG_IGN) {
    // A fault cannot be ignored (the kernel kills the process); a sent signal can.
    if (info->si_code > 0) die_of(sig, info);
    return;
  }
  if ((has_info && prev.sa_sigaction == nullptr) || (!has_info && prev.sa_handler == SIG_DFL)) {
    die_of(sig, info);
    return;
  }
  if (prev.sa_flags & SA_RESETHAND) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
  }
  // Block what the previous handler asked to have blocked while it runs.
  sigset_t mask = prev.sa_mask;
  if (!(prev.sa_flags & SA_NODEFER)) sigaddset(&mask, sig);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &mask, &old);
  if (has_info) {
    prev.sa_sigaction(sig, info, uctx);
  } else {
    prev.sa_handler(sig);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const std::uintptr_t lo = t_current.lo;
  if (info->si_code > 0 && lo != 0 && t_current.guard != 0 && addr < lo &&
      addr >= lo - t_current.guard) {
    report_overflow(t_current.owner);
    die_of(sig, info);
    return;
  }
  forward(sig, info, uctx);
}

bool is_ours(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == on_fault;
}
}  // namespace

void set_current_stack(const Stack* stack, std::uint64_t owner_id) noexcept {
  // Called on every switch: three plain stores through one TLS address.
  CurrentStack& c = t_current;
  std::uintptr_t lo = 0;
  std::uintptr_t guard = 0;
  if (stack != nullptr) [[likely]] {
    lo = reinterpret_cast<std::uintptr_t>(stack->lo);
    guard = stack->guard;
  }
  c.lo = lo;
  c.guard = guard;
  c.owner = owner_id;
}

void install_overflow_handler() {
  {
    // Someone (a test framework, a library) may have replaced our handler
    // since the last call: take the signal back, remembering theirs.
    std::lock_guard<std::mutex> lk(g_install_mu);
    for (int sig : kSignals) {
      struct sigaction cur {};
      if (sigaction(sig, nullptr, &cur) != 0 || is_ours(cur)) continue;
      previous(sig) = cur;
      struct sigaction sa {};
      sa.sa_sigaction = on_fault;
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
      sigemptyset(&sa.sa_mask);
      sigaction(sig, &sa, nullptr);
    }
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

void uninstall_overflow_handler() noexcept {
  std::lock_guard<std::mutex> lk(g_install_mu);
  for (int sig : kSignals) {
    struct sigaction cur {};
    if (sigaction(sig, nullptr, &cur) == 0 && is_ours(cur)) sigaction(sig, &previous(sig), nullptr);
  }
}

}  // namespace gort::ctx
