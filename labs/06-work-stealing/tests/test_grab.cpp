// Lab 06 grader — Task 1, runq_grab and runq_steal, called directly on
// standalone Ps with no scheduler running (plain G objects that never run).
//
// The races a thief must survive are played on purpose, on every run:
// runq_head_probe (rt/p.hpp) lets a "second thief" take the victim's head
// between the grab's load of the head and its claim, and steal_runnext_probe
// (rt/steal.hpp) lets the "victim's owner" run its runnext G while the thief
// pauses. One stress test then runs real threads: an owner pushing and
// popping while three thieves steal, every G counted.
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "gort_grader.hpp"
#include "lab06_util.hpp"

using namespace lab06;

namespace {

/// What runq_grab wrote: batch[(head + i) % kRunqSize] for i < n, as ids.
std::vector<std::uint64_t> batch_ids(std::atomic<G*>* batch, std::uint32_t head, std::uint32_t n) {
  std::vector<std::uint64_t> v;
  for (std::uint32_t i = 0; i < n && i < kRunqSize; ++i) {
    G* g = batch[(head + i) % kRunqSize].load();
    v.push_back(g ? g->id : 0);
  }
  return v;
}

}  // namespace

GRADED_TEST("grab: takes half of the ring (rounded up) from the head in order", 10,
            "Task 1: runq_grab and runq_steal") {
  for (std::uint32_t n : {0u, 1u, 2u, 3u, 4u, 7u, 100u, 255u, 256u}) {
    CAPTURE(n);
    Gs gs(static_cast<int>(n) + 1);
    auto victim = std::make_unique<P>();
    place_indices(victim.get(), 250);  // the ring wraps for every n > 5
    put_range(victim.get(), gs, 0, static_cast<int>(n));
    auto batch = std::make_unique<std::atomic<G*>[]>(kRunqSize);
    std::uint32_t got = runq_grab(victim.get(), batch.get(), 254, false);
    std::uint32_t want = n - n / 2;
    REQUIRE_MESSAGE(got == want, "runq_grab took ", got, " of ", n,
                    " Gs; Go takes n - n/2 = ", want, " (half, rounded up)",
                    got == n && n > 1 ? ": yours takes them all, leaving the victim nothing" : "",
                    got == 1 && want > 1 ? ": yours takes one at a time" : "");
    auto taken = batch_ids(batch.get(), 254, got);
    CHECK_MESSAGE(taken == iota_ids(1, want), "the batch holds ", str(taken), ", expected ",
                  str(iota_ids(1, want)),
                  ": the thief takes the OLDEST Gs (the head) in queue order, and writes them "
                  "at batch[(batch_head + i) % kRunqSize]");
    auto left = drain(victim.get());
    CHECK_MESSAGE(left == iota_ids(want + 1, n), "the victim kept ", str(left), ", expected ",
                  str(iota_ids(want + 1, n)),
                  ": the owner's end (the tail, the newest Gs) stays with the owner");
  }
}

GRADED_TEST("steal: runq_steal runs the last G grabbed and publishes the rest in its ring", 8,
            "Task 1: runq_grab and runq_steal") {
  Gs gs(20);
  auto victim = std::make_unique<P>();
  auto thief = std::make_unique<P>();
  place_indices(thief.get(), 254);
  put_range(victim.get(), gs, 0, 9);  // 1..9: the thief takes 5
  G* g = runq_steal(thief.get(), victim.get(), false);
  REQUIRE_MESSAGE(g != nullptr, "runq_steal found nothing in a victim with 9 Gs");
  CHECK_MESSAGE(g->id == 5, "runq_steal returned G", g->id,
                "; it must return the LAST G grabbed (G5 of 1..5) and queue the others");
  CHECK_MESSAGE(thief->runq_tail.load() == 258u, "the thief's tail is ", thief->runq_tail.load(),
                " after stealing 5 at tail 254: 4 Gs published, expected 258");
  auto mine = drain(thief.get());
  CHECK_MESSAGE(mine == iota_ids(1, 4), "the thief's ring holds ", str(mine),
                ", expected [1, 2, 3, 4] (in the victim's order)");
  CHECK_MESSAGE(drain(victim.get()) == iota_ids(6, 9), "the victim must keep 6..9");

  // One G: returned, nothing published.
  runq_put(victim.get(), gs[10], false);
  std::uint32_t tail = thief->runq_tail.load();
  g = runq_steal(thief.get(), victim.get(), false);
  REQUIRE_MESSAGE(g != nullptr, "runq_steal found nothing in a victim with 1 G");
  CHECK(g->id == 11);
  CHECK_MESSAGE(thief->runq_tail.load() == tail, "stealing a single G must not move the tail");
  CHECK_MESSAGE(runq_steal(thief.get(), victim.get(), false) == nullptr,
                "runq_steal from an empty victim must return nullptr");
}

namespace {
int pauses = 0;                        // calls of steal_runnext_probe
std::vector<std::uint64_t> owner_ran;  // what the played owner took from runnext
void count_pause(P*) { ++pauses; }
/// The victim's owner, played during the thief's pause: it runs its runnext.
void owner_runs_runnext(P* victim) {
  ++pauses;
  if (G* g = victim->runnext.exchange(nullptr)) owner_ran.push_back(g->id);
}
struct ProbeGuard {
  explicit ProbeGuard(void (*f)(P*)) {
    pauses = 0;
    owner_ran.clear();
    steal_runnext_probe.store(f);
  }
  ~ProbeGuard() { steal_runnext_probe.store(nullptr); }
};
}  // namespace

GRADED_TEST("grab: runnext only when asked and the ring is empty and after a pause", 6,
            "Task 1: runq_grab and runq_steal") {
  Gs gs(5);
  ProbeGuard guard(count_pause);
  auto victim = std::make_unique<P>();
  auto batch = std::make_unique<std::atomic<G*>[]>(kRunqSize);
  victim->runnext.store(gs[0]);
  CHECK_MESSAGE(runq_grab(victim.get(), batch.get(), 0, false) == 0,
                "runq_grab(steal_runnext = false) took the victim's runnext");
  CHECK_MESSAGE(victim->runnext.load() == gs[0], "runnext must stay when not asked for");

  put_range(victim.get(), gs, 1, 3);  // ring [2, 3], runnext 1
  std::uint32_t n = runq_grab(victim.get(), batch.get(), 0, true);
  CHECK_MESSAGE(n == 1, "with 2 Gs in the ring, runq_grab takes 1 (half), took ", n);
  CHECK_MESSAGE(victim->runnext.load() == gs[0],
                "runnext is only taken when the ring is empty (the ring had Gs)");
  CHECK_MESSAGE(pauses == 0, "the ring had Gs: no pause for runnext was needed");

  drain(victim.get());
  victim->runnext.store(gs[4]);
  n = runq_grab(victim.get(), batch.get(), 7, true);
  REQUIRE_MESSAGE(n == 1, "an empty ring with a runnext G: runq_grab(steal_runnext) took ", n);
  CHECK(batch[7].load() == gs[4]);
  CHECK_MESSAGE(victim->runnext.load() == nullptr, "the stolen runnext must be cleared (by CAS)");
  CHECK_MESSAGE(pauses == 1,
                "steal_runnext_pause(victim) must run once before taking runnext, ran ", pauses,
                " times");
}

GRADED_TEST("grab: the victim's owner that runs its runnext during the pause keeps it", 8,
            "Task 1: runq_grab and runq_steal") {
  Gs gs(3);
  ProbeGuard guard(owner_runs_runnext);
  auto victim = std::make_unique<P>();
  victim->status.store(gort::PStatus::running);
  victim->runnext.store(gs[0]);
  auto batch = std::make_unique<std::atomic<G*>[]>(kRunqSize);
  std::uint32_t n = runq_grab(victim.get(), batch.get(), 0, true);
  CHECK_MESSAGE(pauses >= 1,
                "the thief took runnext at once, without steal_runnext_pause: the "
                "owner, about to run its G on a warm cache, loses it (locality)");
  CHECK_MESSAGE(owner_ran.size() == 1, "the owner should have run G1 during the pause");
  CHECK_MESSAGE(n == 0, "runq_grab returned ", n,
                " Gs although the owner ran runnext during "
                "the pause: take runnext by CAS from the value read before the pause",
                n == 1 && batch[0].load() == gs[0] ? " (G1 now runs twice)" : "");
}

namespace {
// ---- a second thief played by runq_head_probe ------------------------------
P* victim_p = nullptr;
int thefts_left = 0;
std::vector<std::uint64_t> stolen;
void second_thief(RunqHead& head, std::uint32_t loaded) {
  if (victim_p == nullptr || &head != &victim_p->runq_head || thefts_left == 0) return;
  std::uint32_t h = head.raw().load();
  std::uint32_t t = victim_p->runq_tail.load();
  if (h != loaded || t == h) return;
  G* g = victim_p->runq[h % kRunqSize].load();
  if (head.raw().compare_exchange_strong(h, h + 1)) {
    --thefts_left;
    stolen.push_back(g->id);
  }
}
}  // namespace

GRADED_TEST("grab: a consumer that takes the head meanwhile makes the grab start over", 8,
            "Task 1: runq_grab and runq_steal") {
  Gs gs(8);
  auto victim = std::make_unique<P>();
  put_range(victim.get(), gs, 0, 8);
  auto batch = std::make_unique<std::atomic<G*>[]>(kRunqSize);
  victim_p = victim.get();
  thefts_left = 1;  // right after the grab's first load of the head
  stolen.clear();
  runq_head_probe.store(second_thief);
  std::uint32_t n = runq_grab(victim.get(), batch.get(), 0, false);
  runq_head_probe.store(nullptr);
  victim_p = nullptr;
  REQUIRE_MESSAGE(stolen.size() == 1,
                  "the played consumer did not get to take a G: does "
                  "runq_grab read the head with runq_head.load()?");
  auto taken = batch_ids(batch.get(), 0, n);
  CHECK_MESSAGE(taken == iota_ids(2, 5), "after another consumer took G1, the grab took ",
                str(taken), ", expected [2, 3, 4, 5] (half of the 7 left, rounded up)",
                !taken.empty() && taken[0] == 1
                    ? ": G1 was taken twice — claim the whole batch with ONE CAS on the head, "
                      "and start over when it fails"
                    : "");
  auto left = drain(victim.get());
  CHECK_MESSAGE(left == iota_ids(6, 8), "the victim kept ", str(left), ", expected [6, 7, 8]");
}

GRADED_TEST("steal: an owner pushing while three thieves steal loses and duplicates nothing", 10,
            "Task 1: runq_grab and runq_steal") {
  constexpr int kN = 60000;
  constexpr int kThieves = 3;
  CleanGlobalQueue cq;
  Gs gs(kN);
  auto victim = std::make_unique<P>();
  std::unique_ptr<P> thieves[kThieves];
  for (auto& t : thieves) t = std::make_unique<P>();
  std::unique_ptr<std::atomic<int>[]> seen(new std::atomic<int>[kN + 1]);
  for (int i = 0; i <= kN; ++i) seen[i].store(0);
  std::atomic<bool> done{false};
  std::atomic<long> steals{0};
  auto take = [&](G* g) { seen[g->id].fetch_add(1); };

  std::vector<std::thread> ts;
  for (int k = 0; k < kThieves; ++k) {
    ts.emplace_back([&, k] {
      P* me = thieves[k].get();
      for (long round = 0;; ++round) {
        bool finished = done.load();
        G* g = runq_steal(me, victim.get(), round % 4 == 3);
        if (g) {
          steals.fetch_add(1);
          take(g);
          for (auto& id : drain(me)) seen[id].fetch_add(1);
        } else if (finished) {
          return;
        }
      }
    });
  }
  // The owner: pushes every G (some through runnext), pops some itself.
  bool inherit = false;
  for (int i = 0; i < kN; ++i) {
    runq_put(victim.get(), gs[i], i % 5 == 0);
    if (i % 3 == 0) {
      if (G* g = runq_get(victim.get(), &inherit)) take(g);
    }
  }
  done.store(true);
  for (auto& t : ts) t.join();
  for (auto& id : drain(victim.get())) seen[id].fetch_add(1);
  // Overflow went to the global queue (runq_put_slow): count it too.
  for (G* g = sched.runq_head; g; g = g->schedlink) take(g);

  int lost = 0, twice = 0, first_bad = 0;
  for (int i = 1; i <= kN; ++i) {
    int s = seen[i].load();
    if (s == 0) ++lost;
    if (s > 1) ++twice;
    if (s != 1 && first_bad == 0) first_bad = i;
  }
  CHECK_MESSAGE(lost == 0, lost, " Gs were lost (first: G", first_bad, ")");
  CHECK_MESSAGE(twice == 0, twice, " Gs were taken twice (first: G", first_bad,
                "): a batch must be claimed by one CAS of the head, after copying it");
  CHECK_MESSAGE(steals.load() > 0, "no thief ever stole anything in ", kN, " pushes");
}
