// Goroutine stacks for the scheduler (see runtime/rt/gstack.hpp): a thin
// layer over one ctx::StackPool, created by the first gstack_alloc of a
// gort::run with that run's stack size and destroyed by gstack_release_all
// when the run ends. Gs are never freed while the runtime runs (dead ones are
// reused with their stacks), so the pool only grows during a run.
#include "rt/gstack.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "os/sys.hpp"

namespace gort::rt {

namespace {
std::mutex mu;                               // serialises creating and destroying the pool
std::atomic<ctx::StackPool*> pool{nullptr};  // the current run's pool, if any

ctx::StackPool& pool_for(std::size_t size) {
  ctx::StackPool* p = pool.load(std::memory_order_acquire);
  if (p == nullptr) {
    std::lock_guard<std::mutex> lk(mu);
    p = pool.load(std::memory_order_relaxed);
    if (p == nullptr) {
      p = new ctx::StackPool(size);
      pool.store(p, std::memory_order_release);
    }
  }
  if (p->stack_size() != os::round_up_to_pages(size)) {
    throw std::logic_error("gstack_alloc: every stack of one gort::run must have the same size");
  }
  return *p;
}
}  // namespace

ctx::Stack gstack_alloc(std::size_t size) { return pool_for(size).acquire(); }

void gstack_free(ctx::Stack& s) noexcept {
  if (s.lo == nullptr) return;
  ctx::StackPool* p = pool.load(std::memory_order_acquire);
  if (p != nullptr) p->release(s);
}

void gstack_release_all() noexcept {
  std::lock_guard<std::mutex> lk(mu);
  delete pool.exchange(nullptr, std::memory_order_acq_rel);
}

}  // namespace gort::rt
