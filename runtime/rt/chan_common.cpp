// Channel plumbing around the student's chan.cpp (provided with Lab 03):
// creating and freeing the core, reference counting, len/cap, and moving
// elements through the type-erased ElemOps. See runtime/rt/chan_core.hpp.
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

#include "rt/chan_core.hpp"
#include "rt/sched.hpp"
#include "rt/sysmon.hpp"

namespace gort::detail {

ChanCore* chan_make(std::size_t elem_size, std::size_t elem_align, std::size_t capacity,
                    const ElemOps* ops) {
  auto* c = new ChanCore;
  c->elem_size = elem_size;
  c->elem_align = elem_align < alignof(std::max_align_t) ? alignof(std::max_align_t) : elem_align;
  c->capacity = capacity;
  c->ops = ops;
  if (capacity > 0) {
    try {
      c->buf = static_cast<unsigned char*>(
          ::operator new (capacity* elem_size, std::align_val_t{c->elem_align}));
    } catch (...) {
      delete c;
      throw;
    }
  }
  return c;
}

void chan_retain(ChanCore* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chan_release(ChanCore* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (c->ops) {
    std::size_t i = c->recvx;
    for (std::size_t k = 0; k < c->count; ++k) {
      c->ops->destroy(c->slot(i));
      if (++i == c->capacity) i = 0;
    }
  }
  if (c->buf) ::operator delete (c->buf, std::align_val_t{c->elem_align});
  delete c;
}

std::size_t chan_len(const ChanCore* c) noexcept {
  auto* cc = const_cast<ChanCore*>(c);
  std::lock_guard<rt::SpinLock> lk(cc->lock);
  return c->count;
}

std::size_t chan_cap(const ChanCore* c) noexcept { return c->capacity; }

bool chan_park_unlock(rt::G*, void* chan) noexcept {
  static_cast<ChanCore*>(chan)->lock.unlock();
  return true;
}

namespace {
[[noreturn, gnu::cold, gnu::noinline]] void throw_not_in_goroutine(const char* op) {
  throw std::logic_error(std::string("gort::Chan::") + op +
                         " called outside gort::run — start the runtime with "
                         "gort::run(main) first, and use channels from goroutines");
}
}  // namespace

void chan_require_goroutine(const char* op) {
  // Every channel operation calls this: the message is built out of line, so
  // the check itself is a call and a test.
  if (rt::current_g() == nullptr) [[unlikely]]
    throw_not_in_goroutine(op);
  rt::preempt_point();  // Lab 05: every channel operation is a scheduling point
}

}  // namespace gort::detail
