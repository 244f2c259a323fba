// Lab 03, task 1 — run queues (the student's runq.cpp).
//
// Two kinds of queue hold runnable Gs:
//   * each P's local ring (runtime/rt/p.hpp) plus its runnext slot — no
//     lock: the owner pushes, consumers CAS the head;
//   * the global run queue (sched.runq_*) — a linked list through
//     G::schedlink under sched.lock, where overflow, yielded-from-elsewhere
//     and orphaned Gs go, and from which every P takes batches.
// Invariant: a runnable G is on exactly one queue (or in one runnext).
#pragma once

#include <cstdint>

#include "rt/g.hpp"
#include "rt/p.hpp"

namespace gort::rt {

/// Puts @p gp on @p p's local queue. With @p next, gp goes into runnext and
/// the G that was there (if any) is moved to the tail of the ring. When the
/// ring is full, moves half of it plus the G being added to the global queue
/// (runq_put_slow). Only @p p's owner may call it. Never blocks (except
/// briefly on sched.lock when overflowing).
void runq_put(P* p, G* gp, bool next);

/// Overflow path of runq_put: moves the oldest kRunqSize/2 Gs of the full
/// ring [head, head + kRunqSize) plus @p gp to the global queue in one batch,
/// in FIFO order. Returns false (moving nothing) if a thief took some Gs
/// meanwhile (the CAS on runq_head failed): the caller then retries the fast
/// path. Owner only.
bool runq_put_slow(P* p, G* gp, std::uint32_t head, std::uint32_t tail);

/// Takes the next G from @p p: runnext first (setting *inherit_time = true:
/// it shares the current time slice), else the ring's head (*inherit_time =
/// false). Returns nullptr if both are empty. Called by the owner, but other
/// Ms may take from the same ring at the same moment (stealing): the head is
/// claimed with a CAS, so each G is returned to exactly one consumer.
G* runq_get(P* p, bool* inherit_time);

/// Number of Gs in @p p's ring (runnext not counted); racy but never above
/// kRunqSize when called by the owner. Any thread.
std::uint32_t runq_len(const P* p) noexcept;

/// True if @p p has nothing in its ring nor in runnext. Any thread (racy).
bool runq_empty(const P* p) noexcept;

/// Appends the chain head..tail (@p n Gs linked through schedlink) to the
/// global run queue, preserving order. Caller holds sched.lock.
void globrunq_put_batch(G* head, G* tail, std::int32_t n);

/// Takes a batch from the global queue for @p p: n = min(size,
/// size/gomaxprocs + 1, kRunqSize/2), and also at most @p max if max > 0.
/// Returns the first G of the batch and puts the others on @p p's ring.
/// Returns nullptr if the global queue is empty. Caller holds sched.lock
/// and owns @p p.
G* globrunq_get(P* p, std::int32_t max);

}  // namespace gort::rt
