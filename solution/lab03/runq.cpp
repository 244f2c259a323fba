// Lab 03, task 1 — run queues: each P's lock-free local ring with its
// runnext slot, and the global queue under sched.lock.
//
// Why a per-P ring: almost every scheduling decision (a goroutine made ready,
// created, or picked to run) touches only the current P's queue, so it costs
// a couple of plain loads and stores instead of a contended lock. The global
// queue exists for what does not fit (overflow) and for fairness; it is
// visited rarely (every 61st tick, or when the local queue is empty) and in
// batches, so its lock is cheap on average.
//
// Memory ordering (the ring is single-producer, multi-consumer):
//   * producer (owner): write the slot, then store tail with release, so a
//     consumer that acquires tail sees the slot's contents;
//   * consumers (the owner too, and Lab 06's thieves): load head, read the
//     slot, then CAS head forward (release); the CAS failing means someone
//     else took that G — retry. A slot is only overwritten by the producer
//     after head has moved past it, so a G is taken exactly once.
// Rejected alternative: a mutex per P — correct, but every runq_get would
// pay a lock round-trip, and thieves would contend with the owner.
#include <cstdint>

#include "rt/runq.hpp"
#include "rt/sched.hpp"

namespace gort::rt {

void runq_put(P* p, G* gp, bool next) {
  if (next) {
    // Only the owner ever makes runnext non-null, so if it is empty a plain
    // store suffices (a thief can only empty it further).
    if (p->runnext.load(std::memory_order_relaxed) == nullptr) {
      p->runnext.store(gp, std::memory_order_release);
      return;
    }
    // Kick the old runnext to the tail of the ring (a thief may take it
    // meanwhile: exchange, and append whatever was really there).
    G* old = p->runnext.exchange(gp, std::memory_order_acq_rel);
    if (old == nullptr) return;
    gp = old;
  }
  std::uint32_t head = p->runq_head.load(std::memory_order_acquire);
  std::uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
  if (tail - head < kRunqSize) [[likely]] {
    p->runq[tail % kRunqSize].store(gp, std::memory_order_relaxed);
    p->runq_tail.store(tail + 1, std::memory_order_release);
    return;
  }
  if (runq_put_slow(p, gp, head, tail)) return;
  // A consumer freed some room meanwhile: the fast path will succeed. (A
  // tail call, not a loop: the common path above then saves no registers.)
  runq_put(p, gp, false);
}

bool runq_put_slow(P* p, G* gp, std::uint32_t head, std::uint32_t tail) {
  constexpr std::uint32_t n = kRunqSize / 2;
  if (tail - head != kRunqSize) return false;
  G* batch[n + 1];
  for (std::uint32_t i = 0; i < n; ++i) {
    batch[i] = p->runq[(head + i) % kRunqSize].load(std::memory_order_relaxed);
  }
  // Claim the n oldest entries; fails if a thief took some first.
  if (!p->runq_head.compare_exchange_strong(head, head + n, std::memory_order_acq_rel)) {
    return false;
  }
  batch[n] = gp;
  for (std::uint32_t i = 0; i < n; ++i) batch[i]->schedlink = batch[i + 1];
  batch[n]->schedlink = nullptr;
  std::lock_guard<os::FutexMutex> lk(sched.lock);
  globrunq_put_batch(batch[0], batch[n], static_cast<std::int32_t>(n + 1));
  return true;
}

G* runq_get(P* p, bool* inherit_time) {
  // runnext first. Only the owner puts into runnext, but Lab 06's thieves may
  // take it, so take it by exchange.
  G* next = p->runnext.load(std::memory_order_relaxed);
  if (next != nullptr &&
      p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire)) {
    *inherit_time = true;
    return next;
  }
  *inherit_time = false;
  for (;;) {
    std::uint32_t head = p->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = p->runq_tail.load(std::memory_order_relaxed);
    if (tail == head) return nullptr;
    G* gp = p->runq[head % kRunqSize].load(std::memory_order_relaxed);
    if (p->runq_head.compare_exchange_weak(head, head + 1, std::memory_order_release,
                                           std::memory_order_relaxed)) {
      return gp;
    }
  }
}

std::uint32_t runq_len(const P* p) noexcept {
  for (;;) {
    std::uint32_t head = p->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = p->runq_tail.load(std::memory_order_acquire);
    // A consistent pair: head did not move while tail was read.
    if (head == p->runq_head.load(std::memory_order_acquire)) {
      std::uint32_t n = tail - head;
      return n > kRunqSize ? 0 : n;
    }
  }
}

bool runq_empty(const P* p) noexcept {
  return runq_len(p) == 0 && p->runnext.load(std::memory_order_acquire) == nullptr;
}

void globrunq_put_batch(G* head, G* tail, std::int32_t n) {
  tail->schedlink = nullptr;
  if (sched.runq_tail) {
    sched.runq_tail->schedlink = head;
  } else {
    sched.runq_head = head;
  }
  sched.runq_tail = tail;
  sched.runq_size.store(sched.runq_size.load(std::memory_order_relaxed) + n,
                        std::memory_order_relaxed);
  sched.n_global_puts.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
}

G* globrunq_get(P* p, std::int32_t max) {
  std::int32_t size = sched.runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  std::int32_t n = size / sched.gomaxprocs + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<std::int32_t>(kRunqSize / 2)) n = kRunqSize / 2;
  // Never overflow the ring here: runq_put_slow would take sched.lock, which
  // we hold. (Callers come here with an empty ring, so this rarely bites.)
  std::int32_t room = static_cast<std::int32_t>(kRunqSize - runq_len(p));
  if (n - 1 > room) n = room + 1;
  sched.runq_size.store(size - n, std::memory_order_relaxed);

  G* gp = sched.runq_head;
  sched.runq_head = gp->schedlink;
  for (std::int32_t i = 1; i < n; ++i) {
    G* g2 = sched.runq_head;
    sched.runq_head = g2->schedlink;
    runq_put(p, g2, false);
  }
  if (sched.runq_head == nullptr) sched.runq_tail = nullptr;
  gp->schedlink = nullptr;
  return gp;
}

}  // namespace gort::rt
