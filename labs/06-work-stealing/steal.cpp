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
//
// Until you write them, steal_work, begin_spinning and reset_spinning keep
// the pre-Lab 06 behaviour, which is correct but does not scale: steal ONE G
// from one random P (never runnext), spin without a limit, never pass the
// search on. Labs 01-05 work with it. runq_grab and runq_steal throw
// NotImplemented naming their task.
#include <atomic>
#include <cstdint>

#include "not_implemented.hpp"
#include "rt/hooks.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"
#include "rt/steal.hpp"
#include "rt/timers.hpp"

namespace gort::rt {

// ---- Task 1: grabbing half of a victim's ring ------------------------------

std::uint32_t runq_grab(P* victim, std::atomic<G*>* batch, std::uint32_t batch_head,
                        bool steal_runnext) {
  // TODO(lab 06, task 1): Go's runqgrab. Load the victim's head (acquire)
  // and tail (acquire); n = (tail - head) - (tail - head) / 2.
  //  * n == 0: unless steal_runnext, return 0. Else read runnext; if there
  //    is a G, call steal_runnext_pause(victim) FIRST (its owner may be about
  //    to run it), then CAS runnext from that G to nullptr — if the CAS fails
  //    start over — store it in batch[batch_head % kRunqSize] and return 1.
  //  * n > kRunqSize / 2: head and tail were read at different moments; retry.
  //  * copy runq[(head + i) % kRunqSize] to batch[(batch_head + i) % kRunqSize]
  //    for i < n, then claim all n with ONE CAS of runq_head from head to
  //    head + n; if it fails, someone took Gs meanwhile: start over.
  (void)victim;
  (void)batch;
  (void)batch_head;
  (void)steal_runnext;
  throw NotImplemented("lab 06 task 1: runq_grab");
}

G* runq_steal(P* p, P* victim, bool steal_runnext) {
  // TODO(lab 06, task 1): Go's runqsteal. Grab into your own ring at its
  // tail t (runq_grab(victim, p->runq, t, steal_runnext)); return nullptr if
  // nothing came. The last G grabbed, p->runq[(t + n - 1) % kRunqSize], is
  // the one to return; the n - 1 before it become yours by ONE release
  // store of p->runq_tail = t + n - 1 (skip it when n == 1).
  (void)p;
  (void)victim;
  (void)steal_runnext;
  throw NotImplemented("lab 06 task 1: runq_steal");
}

// ---- Task 2: the search ----------------------------------------------------

G* steal_work(P* p) {
  // TODO(lab 06, task 2): Go's stealWork. kStealTries passes; on each:
  //  * check_timers(p): if it readied any G, return one (runq_get on p);
  //  * walk steal_order() from a fresh fastrand(p->rand_state) r: start at
  //    r % count, step by coprimes[(r / count) % ncoprimes], count steps;
  //  * skip p itself; runq_steal(p, victim, last pass?) — return what it got.
  // Return nullptr after the last pass.
  //
  // Until then, the pre-Lab 06 default: ONE G from the head of the first
  // non-empty P after a random one, claimed by CAS; never runnext.
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
        return gp;
      }
    }
  }
  return nullptr;
}

// ---- Task 3: the spinning limit --------------------------------------------

bool begin_spinning(M* m) {
  // TODO(lab 06, task 3): at most half the busy Ps' worth of spinning Ms:
  // become spinning only while 2 * nmspinning < gomaxprocs - npidle, and
  // increment nmspinning by CAS so that Ms deciding at once never exceed it.
  // Until then: every M that runs dry spins (correct, but wasteful).
  if (!m->spinning) {
    m->spinning = true;
    sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
  }
  return true;
}

bool reset_spinning(M* m) {
  // TODO(lab 06, task 3): Go's resetspinning. Stop spinning; return true if
  // m was the LAST spinner (nmspinning went from 1 to 0), so find_runnable
  // wakes another M to carry on the search. Until then: the search is never
  // passed on.
  if (!m->spinning) return false;
  m->spinning = false;
  sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  return false;
}

bool check_runqs() {
  // TODO(lab 06, task 3): Go's checkRunqsNoP: also look at every P's
  // runnext (runq_empty), now that steal_work takes runnext Gs. Until then,
  // the pre-Lab 06 re-check: the global queue and the rings only (runnext
  // must not count while nothing steals it, or an M would loop forever
  // between this re-check and a steal that never takes the G).
  if (sched.runq_size.load(std::memory_order_seq_cst) > 0) return true;
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    if (runq_len(&sched.allp[i]) > 0) return true;
  }
  return false;
}

}  // namespace gort::rt
