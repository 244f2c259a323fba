// Lab 06 — work stealing: half of a victim's ring in one claim (runq_grab,
// runq_steal), the search over every P in a random order (steal_work), and
// the spinning limit (begin_spinning, reset_spinning).
//
// Read rt/steal.hpp first: it declares every function of this file with its
// contract. The handout (labs/06-work-stealing/README.md) explains why half,
// why from the head, why a random coprime order, and why runnext is taken
// last and late. The provided find_runnable (rt/idle.cpp) calls steal_work
// while its M is spinning, and re-checks every queue after the last spinner
// gives up its P.
#include <atomic>
#include <cstdint>

#include "rt/hooks.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/steal.hpp"
#include "rt/timers.hpp"

namespace gort::rt {

// ---- Task 1: grabbing half of a victim's ring ------------------------------

std::uint32_t runq_grab(P* victim, std::atomic<G*>* batch, std::uint32_t batch_head,
                        bool steal_runnext) {
  for (;;) {
    std::uint32_t h = victim->runq_head.load(std::memory_order_acquire);
    std::uint32_t t = victim->runq_tail.load(std::memory_order_acquire);
    std::uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (!steal_runnext) return 0;
      G* next = victim->runnext.load(std::memory_order_acquire);
      if (next == nullptr) return 0;
      // The victim's owner put it there to run it next, on a warm cache,
      // probably very soon (it just readied it and is about to block):
      // give it that moment before taking the G away.
      steal_runnext_pause(victim);
      if (!victim->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
        continue;  // the owner ran it (or replaced it): look again
      }
      batch[batch_head % kRunqSize].store(next, std::memory_order_relaxed);
      return 1;
    }
    if (n > kRunqSize / 2) continue;  // h and t read at different moments
    for (std::uint32_t i = 0; i < n; ++i) {
      G* gp = victim->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
      batch[(batch_head + i) % kRunqSize].store(gp, std::memory_order_relaxed);
    }
    // One CAS claims all n: if the owner or another thief moved the head
    // meanwhile, what we copied may be stale — start over.
    if (victim->runq_head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                                  std::memory_order_relaxed)) {
      return n;
    }
  }
}

G* runq_steal(P* p, P* victim, bool steal_runnext) {
  std::uint32_t t = p->runq_tail.load(std::memory_order_relaxed);
  std::uint32_t n = runq_grab(victim, p->runq, t, steal_runnext);
  if (n == 0) return nullptr;
  --n;
  G* gp = p->runq[(t + n) % kRunqSize].load(std::memory_order_relaxed);
  if (n == 0) return gp;
  std::uint32_t h = p->runq_head.load(std::memory_order_acquire);
  if (t - h + n >= kRunqSize) fatal("runq_steal: the thief's ring overflowed");
  p->runq_tail.store(t + n, std::memory_order_release);  // publishes the batch
  return gp;
}

// ---- Task 2: the search ----------------------------------------------------

G* steal_work(P* p) {
  int procs = sched.gomaxprocs;
  if (procs < 2) return nullptr;
  const RandomOrder& order = steal_order();
  for (int pass = 0; pass < kStealTries; ++pass) {
    // Timers first: a sleeper due now is work for this P, found without
    // taking anything from anyone.
    if (check_timers(p) > 0) {
      bool inherit = false;
      if (G* gp = runq_get(p, &inherit)) return gp;
    }
    bool last = pass == kStealTries - 1;
    std::uint32_t r = fastrand(p->rand_state);
    std::uint32_t pos = r % order.count;
    std::uint32_t inc = order.coprimes[(r / order.count) % order.ncoprimes];
    for (std::uint32_t i = 0; i < order.count; ++i, pos = (pos + inc) % order.count) {
      P* victim = &sched.allp[pos];
      if (victim == p) continue;
      if (G* gp = runq_steal(p, victim, last)) return gp;
    }
  }
  return nullptr;
}

// ---- Task 3: the spinning limit --------------------------------------------

bool begin_spinning(M* m) {
  if (m->spinning) return true;
  std::int32_t n = sched.nmspinning.load(std::memory_order_relaxed);
  for (;;) {
    std::int32_t busy = sched.gomaxprocs - sched.npidle.load(std::memory_order_relaxed);
    if (2 * n >= busy) return false;
    if (sched.nmspinning.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst,
                                               std::memory_order_relaxed)) {
      m->spinning = true;
      return true;
    }
  }
}

bool reset_spinning(M* m) {
  if (!m->spinning) return false;
  m->spinning = false;
  return sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1;
}

bool check_runqs() {
  if (sched.runq_size.load(std::memory_order_seq_cst) > 0) return true;
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    if (!runq_empty(&sched.allp[i])) return true;
  }
  return false;
}

}  // namespace gort::rt
