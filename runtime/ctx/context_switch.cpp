// Provided (Lab 02): the switch every runtime calls, wrapped for sanitizers.
//
// gort_switch_context_raw (the student's assembly) moves the CPU from one
// stack to another; the sanitizers cannot see that happen, so this layer
// tells them:
//   * ASan keeps "fake stacks" for use-after-return detection and checks that
//     accesses stay within the current stack: __sanitizer_start_switch_fiber
//     before the switch names the stack we are going to,
//     __sanitizer_finish_switch_fiber after it (in the resumed context)
//     completes the switch.
//   * TSan keeps a shadow call stack and a vector clock per thread; each
//     context gets a TSan fiber (__tsan_create_fiber), and
//     __tsan_switch_to_fiber with flags 0 also orders the two contexts'
//     memory accesses (everything before the switch happens-before
//     everything after it), which is exactly the guarantee a switch gives.
// It also moves the C++ exception state, which the C++ runtime keeps per
// *thread* (Itanium C++ ABI: __cxa_get_globals() returns the thread's
// { caughtExceptions, uncaughtExceptions }), to the context it belongs to:
// the outgoing context's values are saved in it and the incoming context's
// installed, before the raw switch. Without this, a context that switches
// away inside a catch block would let the next one on the thread see (and
// end, and free) its exception, and a context resumed on another thread
// would find that thread's count — std::uncaught_exceptions() could go
// negative. Nearly always neither side has any exception state, and the
// check costs a few loads (lab02_bench: about 1–2 ns per switch).
// Without GORT_ASAN/GORT_TSAN that, and a call of the raw switch, is all.
//
// gort_context_start is where every fresh context begins (reached from the
// assembly trampoline make_context sets up): it finishes the sanitizer half
// of the first switch, runs entry(arg), and, because a context has nowhere to
// return to, treats a return as a fatal error instead of falling off its stack.
#include <pthread.h>
#include <unistd.h>

#include <cxxabi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ctx/context.hpp"
#include "os/sys.hpp"

#if defined(GORT_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(GORT_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#if defined(GORT_ASAN)
#define GORT_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define GORT_NO_ASAN
#endif

namespace gort::ctx {
namespace {
#if defined(GORT_ASAN)
// Bounds of the calling thread's own stack, for switches back to a context
// without a stack of its own (a thread's original context can only ever be
// resumed on that thread).
struct ThreadStack {
  const void* lo = nullptr;
  std::size_t size = 0;
};
ThreadStack thread_stack() {
  thread_local ThreadStack ts = [] {
    ThreadStack r;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* lo = nullptr;
      std::size_t size = 0;
      pthread_attr_getstack(&attr, &lo, &size);
      pthread_attr_destroy(&attr);
      r.lo = lo;
      r.size = size;
    }
    return r;
  }();
  return ts;
}
#endif

// The layout of __cxa_eh_globals in libstdc++ and libc++abi on x86-64 and
// aarch64 (only 32-bit ARM EHABI adds a field, after these two).
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

// This thread's exception globals (what __cxa_get_globals() returns, which
// costs a call and a dynamic TLS lookup), cached per thread; null until the
// thread's first switch. switch_context reads it before the raw switch
// only: after the switch, the same code may be running on another thread.
// initial-exec: the runtime is linked into the program (or a library loaded
// at startup), so reading it is one load at a fixed offset from the thread
// pointer, not a __tls_get_addr call.
[[gnu::tls_model("initial-exec")]] thread_local EhGlobals* t_eh_globals = nullptr;

// The switch proper: sanitizer annotations around the raw switch.
[[gnu::always_inline]] inline void annotated_switch(Context& from, Context& to) noexcept {
#if defined(GORT_ASAN)
  const void* lo = to.stack_lo;
  std::size_t size = to.stack_size;
  if (lo == nullptr) {
    ThreadStack ts = thread_stack();
    lo = ts.lo;
    size = ts.size;
  }
  __sanitizer_start_switch_fiber(&from.asan_fake_stack, lo, size);
#endif
#if defined(GORT_TSAN)
  if (from.tsan_fiber == nullptr) from.tsan_fiber = __tsan_get_current_fiber();
  if (to.tsan_fiber == nullptr) {
    to.tsan_fiber = __tsan_create_fiber(0);
    to.tsan_owned = true;
  }
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  gort_switch_context_raw(&from.sp, to.sp);
#if defined(GORT_ASAN)
  __sanitizer_finish_switch_fiber(from.asan_fake_stack, nullptr, nullptr);
#endif
}

// The rare path of switch_context: this thread's globals pointer is not
// cached yet, or one side has exception state. Saves the thread's state
// into `from`, installs `to`'s and clears it there (a running context's
// fields stay empty), then switches.
[[gnu::cold, gnu::noinline]] void switch_moving_eh_state(Context& from, Context& to) noexcept {
  EhGlobals* eh = t_eh_globals;
  if (eh == nullptr) eh = t_eh_globals = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
  from.eh_caught = eh->caught_exceptions;
  from.eh_uncaught = eh->uncaught_exceptions;
  eh->caught_exceptions = to.eh_caught;
  eh->uncaught_exceptions = to.eh_uncaught;
  to.eh_caught = nullptr;
  to.eh_uncaught = 0;
  annotated_switch(from, to);  // eh is not used after the switch
}

}  // namespace

void switch_context(Context& from, Context& to) noexcept {
  // A running context's eh_* fields are empty (its state is in the thread's
  // globals); a suspended one's hold its state. So when neither side has any
  // exception state — nearly always — there is nothing to move, and the fast
  // path is a few loads (this thread's pointer is read before the switch and
  // never after it: the code after the switch may run on another thread).
  EhGlobals* eh = t_eh_globals;
  if (eh == nullptr ||
      (reinterpret_cast<std::uintptr_t>(eh->caught_exceptions) | eh->uncaught_exceptions |
       reinterpret_cast<std::uintptr_t>(to.eh_caught) | to.eh_uncaught) != 0) {
    return switch_moving_eh_state(from, to);
  }
  annotated_switch(from, to);
}

void release_context(Context& ctx) noexcept {
#if defined(GORT_TSAN)
  if (ctx.tsan_owned && ctx.tsan_fiber != nullptr) __tsan_destroy_fiber(ctx.tsan_fiber);
#endif
  ctx.tsan_fiber = nullptr;
  ctx.tsan_owned = false;
  ctx.eh_caught = nullptr;
  ctx.eh_uncaught = 0;
  ctx.asan_fake_stack = nullptr;
  ctx.sp = nullptr;
}

}  // namespace gort::ctx

// Not instrumented by ASan: before a noreturn call (abort) ASan would try to
// unpoison "the" thread stack, which on a context stack it cannot find.
extern "C" [[noreturn]] GORT_NO_ASAN void gort_context_start(gort::ctx::EntryFn entry,
                                                             void* arg) noexcept {
#if defined(GORT_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  entry(arg);
  gort::os::write_all(
      2,
      "fatal error: context entry function returned\n"
      "(a context has no caller to return to: end it by switching away for the last time)\n");
  std::abort();
}

extern "C" [[noreturn]] void gort_lab02_not_implemented(const char* what) noexcept {
  gort::os::write_all(2, "fatal error: not implemented yet: ");
  gort::os::write_all(2, what);
  gort::os::write_all(2, " (TODO in labs/02-context-switch)\n");
  std::abort();
}
