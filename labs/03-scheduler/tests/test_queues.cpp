// Lab 03 grader — the queues alone: the ring, runnext, the global queue and
// find_runnable_fast, called directly on a standalone P with no scheduler
// running (no goroutine, no M, no other thread).
//
// These tests need only the functions they name, so Task 1 scores on its
// own before any of Task 2 is written, and a wrong queue discipline is
// blamed on the function that has it. The Gs are plain G objects that never
// run: the tests only move pointers through the queues and check that each
// comes out exactly once, in the predicted order.
//
// The race a consumer must survive (another M takes the head between our
// load and our claim) is played on purpose: runq_head_probe (runtime/rt/
// p.hpp) runs a "thief" right after a load of the head, so a consumer that
// claims with a plain store instead of a CAS returns a G the thief already
// took — on every run, not once in thirty.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gort_grader.hpp"
#include "lab03_util.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"

using lab03::str;
using namespace gort::rt;

namespace {

/// Fake goroutines with ids 1..n (index i has id i + 1); they never run.
struct Gs {
  explicit Gs(int n) : n(n), g(new G[static_cast<std::size_t>(n)]) {
    for (int i = 0; i < n; ++i) g[i].id = static_cast<std::uint64_t>(i + 1);
  }
  G* operator[](int i) { return &g[i]; }
  int n;
  std::unique_ptr<G[]> g;
};

/// Resets the global queue around a test (each graded test runs in its own
/// process, but keep the global state clean anyway).
struct GlobalQueue {
  explicit GlobalQueue(int procs) {
    sched.runq_head = sched.runq_tail = nullptr;
    sched.runq_size.store(0);
    sched.n_global_puts.store(0);
    sched.gomaxprocs = procs;
  }
  ~GlobalQueue() {
    sched.runq_head = sched.runq_tail = nullptr;
    sched.runq_size.store(0);
    sched.gomaxprocs = 0;
  }
  /// Ids on the global queue, head first (follows schedlink; at most 1000).
  static std::vector<std::uint64_t> ids() {
    std::vector<std::uint64_t> v;
    for (G* g = sched.runq_head; g && v.size() < 1000; g = g->schedlink) v.push_back(g->id);
    return v;
  }
};

/// Puts gs[from..to) on @p p's ring (not next).
void put_range(P* p, Gs& gs, int from, int to) {
  for (int i = from; i < to; ++i) runq_put(p, gs[i], false);
}

/// Takes everything from @p p with runq_get: ids in order.
std::vector<std::uint64_t> drain(P* p) {
  std::vector<std::uint64_t> v;
  bool inherit = false;
  while (G* g = runq_get(p, &inherit)) {
    v.push_back(g->id);
    if (v.size() > 2000) break;  // a broken ring that never empties
  }
  return v;
}

std::vector<std::uint64_t> iota_ids(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = first; i <= last; ++i) v.push_back(i);
  return v;
}

/// Links gs[from..to) through schedlink and appends them to the global queue.
void global_put(Gs& gs, int from, int to) {
  for (int i = from; i + 1 < to; ++i) gs[i]->schedlink = gs[i + 1];
  gs[to - 1]->schedlink = nullptr;
  std::lock_guard<gort::os::FutexMutex> lk(sched.lock);
  globrunq_put_batch(gs[from], gs[to - 1], to - from);
}

// ---- the thief played by runq_head_probe -----------------------------------

RunqHead* victim_head = nullptr;  // the head the thief watches
P* victim = nullptr;
int thefts_left = 0;  // steals still to do (one per load of the head)
std::vector<std::uint64_t> stolen;

/// Runs right after someone loaded victim's head: if the ring is not empty,
/// take its head G by CAS, as another M's steal would, so the loader's view
/// of the head is already stale when it tries to claim it.
void thief(RunqHead& head, std::uint32_t loaded) {
  if (&head != victim_head || thefts_left == 0) return;
  std::uint32_t h = head.raw().load(std::memory_order_acquire);
  std::uint32_t t = victim->runq_tail.load(std::memory_order_acquire);
  if (h != loaded || t == h) return;
  G* g = victim->runq[h % kRunqSize].load(std::memory_order_relaxed);
  if (head.raw().compare_exchange_strong(h, h + 1, std::memory_order_acq_rel)) {
    --thefts_left;
    stolen.push_back(g->id);
  }
}

void arm_thief(P* p, int thefts) {
  victim = p;
  victim_head = &p->runq_head;
  thefts_left = thefts;
  stolen.clear();
  runq_head_probe.store(thief);
}

void disarm_thief() { runq_head_probe.store(nullptr); }

/// Counts how often each of ids 1..n appears in @p all.
std::string exactly_once(const std::vector<std::uint64_t>& all, int n) {
  std::vector<int> seen(static_cast<std::size_t>(n) + 1, 0);
  for (std::uint64_t id : all) {
    if (id >= 1 && id <= static_cast<std::uint64_t>(n)) ++seen[id];
  }
  std::string bad;
  for (int i = 1; i <= n; ++i) {
    if (seen[static_cast<std::size_t>(i)] != 1) {
      bad += " G" + std::to_string(i) + " x" + std::to_string(seen[static_cast<std::size_t>(i)]);
    }
  }
  return bad;
}

}  // namespace

GRADED_TEST("ring: a standalone P's ring is FIFO and runnext comes first", 6,
            "Task 1: the local run queue") {
  Gs gs(60);
  auto p = std::make_unique<P>();
  bool inherit = true;
  REQUIRE_MESSAGE(runq_get(p.get(), &inherit) == nullptr,
                  "runq_get on an empty P must return nullptr");

  put_range(p.get(), gs, 0, 5);
  CHECK_MESSAGE(runq_len(p.get()) == 5,
                "runq_len after 5 runq_put(next = false): ", runq_len(p.get()));
  std::vector<std::uint64_t> got;
  bool any_inherit = false;
  while (G* g = runq_get(p.get(), &inherit)) {
    got.push_back(g->id);
    any_inherit |= inherit;
    if (got.size() > 10) break;
  }
  CHECK_MESSAGE(
      str(got) == "[1, 2, 3, 4, 5]", "runq_get returned ", str(got),
      " after putting 1..5: the ring is FIFO — runq_get pops at the head (oldest "
      "first)",
      std::string(got.size() == 5 && got[0] == 5 ? "; yours pops the newest (LIFO)" : ""));
  CHECK_MESSAGE(!any_inherit, "a G from the ring must report *inherit_time = false");

  // runnext: the newest next-put G is first; the one it displaced goes to the tail.
  runq_put(p.get(), gs[5], true);   // runnext = 6
  runq_put(p.get(), gs[6], true);   // runnext = 7, 6 -> ring
  runq_put(p.get(), gs[7], false);  // ring: 6, 8
  CHECK_MESSAGE(runq_len(p.get()) == 2, "ring length ", runq_len(p.get()),
                " after put(6, next), put(7, next), put(8): expected 2 (6 pushed out of runnext, "
                "then 8; 7 is in runnext, not in the ring)");
  CHECK_MESSAGE(p->runnext.load() == gs[6], "runnext must hold the G put last with next = true");
  G* first = runq_get(p.get(), &inherit);
  CHECK_MESSAGE(first == gs[6], "runq_get returned G", first ? first->id : 0,
                ", expected G7 from runnext: runq_get takes runnext before the ring");
  CHECK_MESSAGE(inherit, "a G taken from runnext must report *inherit_time = true");
  std::vector<std::uint64_t> rest = drain(p.get());
  CHECK_MESSAGE(str(rest) == "[6, 8]", "after runnext the ring gave ", str(rest),
                ", expected [6, 8]: the G pushed out of runnext goes to the ring's tail");

  // Free-running counters: the same across the 32-bit wrap-around.
  p->runq_head.raw().store(0xFFFFFFF0u);
  p->runq_tail.store(0xFFFFFFF0u);
  put_range(p.get(), gs, 10, 50);
  CHECK_MESSAGE(runq_len(p.get()) == 40, "runq_len across the 32-bit wrap: ", runq_len(p.get()));
  std::vector<std::uint64_t> wrapped = drain(p.get());
  CHECK_MESSAGE(str(wrapped) == str(iota_ids(11, 50)),
                "across the 32-bit wrap-around of "
                "runq_head/runq_tail the ring gave ",
                str(wrapped),
                ": compute lengths as tail - head (unsigned) and index with % kRunqSize");
}

GRADED_TEST("ring: a full ring moves its oldest half plus the new G to the global queue", 5,
            "Task 1: overflow and the global queue") {
  GlobalQueue gq(1);
  Gs gs(300);
  auto p = std::make_unique<P>();
  put_range(p.get(), gs, 0, 256);
  CHECK_MESSAGE(runq_len(p.get()) == 256,
                "256 puts should fill the ring exactly; runq_len = ", runq_len(p.get()));
  CHECK_MESSAGE(sched.runq_size.load() == 0, "the global queue got Gs before the ring was full");
  runq_put(p.get(), gs[256], false);  // the 257th
  std::vector<std::uint64_t> want = iota_ids(1, 128);
  want.push_back(257);
  CHECK_MESSAGE(sched.runq_size.load() == 129, "global queue size ", sched.runq_size.load(),
                " after the 257th put, expected 129 (the 128 oldest + the new G)");
  CHECK_MESSAGE(str(GlobalQueue::ids()) == str(want), "global queue ", str(GlobalQueue::ids()),
                ", expected the 128 oldest in order, then the G being added (257)");
  CHECK_MESSAGE(sched.n_global_puts.load() == 129,
                "sched.n_global_puts = ", sched.n_global_puts.load(), ", expected 129");
  std::vector<std::uint64_t> local = drain(p.get());
  CHECK_MESSAGE(str(local) == str(iota_ids(129, 256)), "the ring kept ", local.size(),
                " Gs; expected the newest 128 (129..256) in order");
}

GRADED_TEST("ring: a consumer that loses the race for the head takes another G", 6,
            "Task 1: the local run queue") {
  GlobalQueue gq(1);
  // runq_get: a thief takes the head right after each of our first 3 loads of it.
  {
    Gs gs(8);
    auto p = std::make_unique<P>();
    put_range(p.get(), gs, 0, 8);
    arm_thief(p.get(), 3);
    bool inherit = false;
    G* mine = runq_get(p.get(), &inherit);
    disarm_thief();
    REQUIRE_MESSAGE(mine != nullptr, "runq_get returned nullptr with Gs left in the ring");
    std::vector<std::uint64_t> all = stolen;
    all.push_back(mine->id);
    std::vector<std::uint64_t> rest = drain(p.get());
    all.insert(all.end(), rest.begin(), rest.end());
    std::string bad = exactly_once(all, 8);
    CHECK_MESSAGE(bad.empty(), "another M took ", str(stolen),
                  " between runq_get's load of runq_head and its claim; runq_get returned G",
                  mine->id, " and the ring then held ", str(rest), ". Not exactly once:", bad,
                  ". Claim the head with compare_exchange (retry when it fails), never with a "
                  "plain store");
    CHECK_MESSAGE(mine->id == stolen.size() + 1, "runq_get returned G", mine->id,
                  ", expected the oldest G nobody took (G", stolen.size() + 1, ")");
  }
  // runq_put on a full ring: a thief takes the head while we decide to overflow.
  {
    Gs gs(257);
    auto p = std::make_unique<P>();
    put_range(p.get(), gs, 0, 256);
    arm_thief(p.get(), 1);
    runq_put(p.get(), gs[256], false);
    disarm_thief();
    std::vector<std::uint64_t> all = stolen;
    std::vector<std::uint64_t> global = GlobalQueue::ids();
    all.insert(all.end(), global.begin(), global.end());
    std::vector<std::uint64_t> rest = drain(p.get());
    all.insert(all.end(), rest.begin(), rest.end());
    std::string bad = exactly_once(all, 257);
    CHECK_MESSAGE(bad.empty(), "a thief took ", str(stolen),
                  " while runq_put overflowed a full ring; not exactly once across the thief, "
                  "the global queue and the ring:",
                  bad,
                  ". runq_put_slow must claim the batch with a CAS of runq_head and give up "
                  "(return false) when it fails");
  }
}

GRADED_TEST("globrunq: a batch is n/procs + 1 Gs capped at 128 and at max in FIFO order", 5,
            "Task 1: overflow and the global queue") {
  GlobalQueue gq(4);
  Gs gs(300);
  global_put(gs, 0, 300);
  REQUIRE_MESSAGE(sched.runq_size.load() == 300,
                  "globrunq_put_batch of 300 Gs: runq_size = ", sched.runq_size.load());
  auto take = [](P* p, int max) {
    std::lock_guard<gort::os::FutexMutex> lk(sched.lock);
    return globrunq_get(p, max);
  };
  auto p1 = std::make_unique<P>();
  G* g = take(p1.get(), 0);
  REQUIRE_MESSAGE(g != nullptr, "globrunq_get returned nullptr with 300 Gs queued");
  CHECK_MESSAGE(g->id == 1, "globrunq_get returned G", g->id, ", expected the head (G1)");
  std::vector<std::uint64_t> r1 = drain(p1.get());
  CHECK_MESSAGE(str(r1) == str(iota_ids(2, 76)),
                "with 300 queued and 4 Ps the batch is "
                "min(300, 300/4 + 1, 128) = 76: one returned, 75 on the ring (G2..G76 in order); "
                "the ring got ",
                r1.size(), ": ", str(r1));
  CHECK_MESSAGE(sched.runq_size.load() == 224,
                "runq_size after a batch of 76: ", sched.runq_size.load(), ", expected 224");

  sched.gomaxprocs = 1;  // now the 128 cap binds: min(224, 225, 128)
  auto p2 = std::make_unique<P>();
  g = take(p2.get(), 0);
  REQUIRE(g != nullptr);
  std::vector<std::uint64_t> r2 = drain(p2.get());
  CHECK_MESSAGE((g->id == 77 && r2.size() == 127),
                "with 224 queued and 1 P the batch is "
                "min(224, 225, 128) = 128 (kRunqSize/2); got G",
                g->id, " plus ", r2.size(), " on the ring");

  auto p3 = std::make_unique<P>();
  g = take(p3.get(), 3);  // the caller's limit
  REQUIRE(g != nullptr);
  std::vector<std::uint64_t> r3 = drain(p3.get());
  CHECK_MESSAGE((g->id == 205 && str(r3) == "[206, 207]"),
                "globrunq_get(p, 3) must take "
                "exactly 3 (G205, then G206, G207 on the ring); got G",
                g->id, " and ", str(r3));
  CHECK_MESSAGE(sched.runq_size.load() == 93,
                "runq_size after taking 76 + 128 + 3 of 300: ", sched.runq_size.load());

  auto p4 = std::make_unique<P>();
  g = take(p4.get(), 1);
  CHECK_MESSAGE((g != nullptr && g->id == 208 && runq_len(p4.get()) == 0),
                "globrunq_get(p, 1) must take exactly one G and put nothing on the ring");
  // Empty it, then ask again.
  while (sched.runq_size.load() > 0) {
    auto px = std::make_unique<P>();
    if (take(px.get(), 0) == nullptr) break;
  }
  auto p5 = std::make_unique<P>();
  CHECK_MESSAGE(take(p5.get(), 0) == nullptr,
                "globrunq_get on an empty global queue must "
                "return nullptr");
  CHECK_MESSAGE(sched.runq_head == nullptr, "an emptied global queue must have runq_head null");
}

GRADED_TEST("find_runnable_fast: every 61st tick one G from the global queue comes first", 5,
            "Task 2: find_runnable and fairness") {
  GlobalQueue gq(1);
  Gs gs(20);
  auto p = std::make_unique<P>();
  put_range(p.get(), gs, 0, 3);  // local: G1, G2, G3
  global_put(gs, 10, 20);        // global: G11..G20
  bool inherit = true;
  auto pick = [&](std::uint64_t tick) {
    p->schedtick = tick;
    inherit = true;
    G* g = find_runnable_fast(p.get(), &inherit);
    return g ? g->id : 0;
  };
  std::uint64_t a = pick(61);
  CHECK_MESSAGE(a == 11, "at schedtick 61 find_runnable_fast returned G", a,
                ", expected G11 from the global queue (61 % 61 == 0: the global queue first)");
  CHECK_MESSAGE(!inherit, "a G from the global queue must not inherit the time slice");
  CHECK_MESSAGE(sched.runq_size.load() == 9, "the 61-tick check took ", 10 - sched.runq_size.load(),
                " Gs from the global queue; it takes exactly one (globrunq_get(p, 1))");
  CHECK_MESSAGE(runq_len(p.get()) == 3, "the 61-tick check changed the local ring (",
                runq_len(p.get()), " Gs now, 3 before): it takes one G and puts none on the ring");
  std::uint64_t b = pick(64);
  CHECK_MESSAGE(b == 1, "at schedtick 64 find_runnable_fast returned G", b,
                ", expected G1 from the local ring (the check is every 61 ticks, not 64)");
  std::uint64_t c = pick(122);
  CHECK_MESSAGE(c == 12, "at schedtick 122 find_runnable_fast returned G", c,
                ", expected G12 from the global queue (122 % 61 == 0)");
  std::uint64_t d = pick(0);
  CHECK_MESSAGE(d == 13, "at schedtick 0 find_runnable_fast returned G", d,
                ", expected G13 from the global queue (0 % 61 == 0)");
  runq_put(p.get(), gs[5], true);  // runnext: G6
  std::uint64_t e = pick(5);
  CHECK_MESSAGE((e == 6 && inherit), "with G6 in runnext at tick 5, find_runnable_fast returned G",
                e, std::string(inherit ? "" : " without inherit_time"),
                ": runnext first, inheriting the slice");
  std::uint64_t f = pick(7);
  CHECK_MESSAGE((f == 2 && !inherit), "at tick 7 find_runnable_fast returned G", f,
                ", expected G2 from the ring (inherit_time false)");
}

GRADED_TEST("find_runnable_fast: an empty local queue takes a batch from the global queue", 4,
            "Task 2: find_runnable and fairness") {
  GlobalQueue gq(2);
  Gs gs(10);
  auto p = std::make_unique<P>();
  global_put(gs, 0, 10);
  p->schedtick = 5;
  bool inherit = true;
  G* g = find_runnable_fast(p.get(), &inherit);
  REQUIRE_MESSAGE(g != nullptr,
                  "find_runnable_fast returned nullptr with an empty local queue "
                  "and 10 Gs on the global queue: after runq_get it must take a global batch");
  CHECK_MESSAGE(g->id == 1, "find_runnable_fast returned G", g->id,
                ", expected the global head G1");
  CHECK_MESSAGE(!inherit, "a G from the global queue must not inherit the time slice");
  std::vector<std::uint64_t> r = drain(p.get());
  CHECK_MESSAGE(str(r) == "[2, 3, 4, 5, 6]",
                "the batch (min(10, 10/2 + 1, 128) = 6) should put "
                "G2..G6 on the ring; it holds ",
                str(r));
  GlobalQueue empty(2);
  auto q = std::make_unique<P>();
  CHECK_MESSAGE(find_runnable_fast(q.get(), &inherit) == nullptr,
                "find_runnable_fast with nothing anywhere must return nullptr");
}
