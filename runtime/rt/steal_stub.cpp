// Default work stealing (see runtime/rt/hooks.hpp). Lab 06 will move this
// into the student's lab folder and replace it with Go's stealWork: four
// passes over the other Ps in a random order with a coprime stride, taking
// half of a victim's ring (runqgrab), its runnext on the last pass, and its
// expired timers.
//
// This default is deliberately minimal but real, so that two Ps already
// share work before Lab 06: one G from the head of one randomly chosen other
// P's ring, taken with the same CAS on runq_head that every consumer uses
// (the victim's owner may be popping the same slot at the same moment; the
// CAS decides who gets it). It never takes runnext.
#include "rt/hooks.hpp"
#include "rt/sched.hpp"

namespace gort::rt {

G* steal_work(P* p) {
  int n = sched.gomaxprocs;
  if (n < 2) return nullptr;
  int start = static_cast<int>(fastrand(p->rand_state) % static_cast<std::uint32_t>(n));
  for (int k = 0; k < n; ++k) {
    P* victim = &sched.allp[(start + k) % n];
    if (victim == p) continue;
    for (;;) {
      std::uint32_t head = victim->runq_head.load(std::memory_order_acquire);
      std::uint32_t tail = victim->runq_tail.load(std::memory_order_acquire);
      std::uint32_t len = tail - head;
      if (len == 0 || len > kRunqSize) break;  // empty, or an inconsistent read
      G* gp = victim->runq[head % kRunqSize].load(std::memory_order_relaxed);
      if (victim->runq_head.compare_exchange_weak(head, head + 1, std::memory_order_acq_rel,
                                                  std::memory_order_relaxed)) {
        p->n_steals.fetch_add(1, std::memory_order_relaxed);
        return gp;
      }
    }
  }
  return nullptr;
}

}  // namespace gort::rt
