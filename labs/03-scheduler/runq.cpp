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
//     slot, then CAS head forward; a failed CAS means someone else took that
//     G — retry. The producer only overwrites a slot after head moved past it.
// Read runtime/rt/runq.hpp (the contracts) and runtime/rt/p.hpp (the
// ring's fields) before you start.
#include <cstdint>

#include "not_implemented.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"

namespace gort::rt {

void runq_put(P* p, G* gp, bool next) {
  // TODO(lab 03, task 1): with `next`, exchange gp into p->runnext; if that
  // slot held a G, that old G is the one to append to the ring instead.
  // Append: load head (acquire) and tail; if tail - head < kRunqSize, store
  // gp in runq[tail % kRunqSize] and publish tail + 1 with release.
  // Otherwise call runq_put_slow; if it fails (a thief made room), retry.
  (void)p;
  (void)gp;
  (void)next;
  throw gort::NotImplemented("lab 03 task 1: runq_put");
}

bool runq_put_slow(P* p, G* gp, std::uint32_t head, std::uint32_t tail) {
  // TODO(lab 03, task 1): copy the kRunqSize/2 oldest Gs (from head), claim
  // them with a CAS of runq_head from head to head + kRunqSize/2 (return
  // false if it fails), chain them plus gp through schedlink, and append
  // the chain to the global queue under sched.lock (globrunq_put_batch).
  (void)p;
  (void)gp;
  (void)head;
  (void)tail;
  throw gort::NotImplemented("lab 03 task 1: runq_put_slow");
}

G* runq_get(P* p, bool* inherit_time) {
  // TODO(lab 03, task 1): take runnext if set (CAS it to null; a thief may
  // race you in Lab 06) and report *inherit_time = true; else pop the ring's
  // head with a CAS loop (*inherit_time = false). nullptr if both are empty.
  (void)p;
  (void)inherit_time;
  throw gort::NotImplemented("lab 03 task 1: runq_get");
}

std::uint32_t runq_len(const P* p) noexcept {
  // Provided: a consistent (head, tail) pair.
  for (;;) {
    std::uint32_t head = p->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = p->runq_tail.load(std::memory_order_acquire);
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
  // TODO(lab 03, task 1): append the chain head..tail (n Gs, linked through
  // schedlink) to sched.runq_head/runq_tail in one step, and add n to
  // sched.runq_size and sched.n_global_puts. sched.lock is held by the caller.
  (void)head;
  (void)tail;
  (void)n;
  throw gort::NotImplemented("lab 03 task 1: globrunq_put_batch");
}

G* globrunq_get(P* p, std::int32_t max) {
  // TODO(lab 03, task 1): n = min(size, size / sched.gomaxprocs + 1,
  // kRunqSize / 2), and at most max if max > 0 (and never more than fits in
  // p's ring: runq_put_slow would need sched.lock, which you hold). Unlink n
  // Gs from the head; return the first, runq_put the rest on p (not next).
  (void)p;
  (void)max;
  throw gort::NotImplemented("lab 03 task 1: globrunq_get");
}

}  // namespace gort::rt
