// Lab 06 grader — Tasks 2 and 3 without a running scheduler: steal_work on
// a hand-made set of Ps (which victims it visits, in which order, what it
// takes), and the spinning limit on hand-set counters (begin_spinning,
// reset_spinning), so every outcome is exact — no timing, no luck.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gort_grader.hpp"
#include "lab06_util.hpp"

using namespace lab06;

namespace {

/// procs standalone Ps installed as sched.allp (no Ms, no goroutines), with
/// the steal order for procs; undone at the end of the test.
struct FakePs {
  explicit FakePs(int procs) : ps(new P[static_cast<std::size_t>(procs)]) {
    for (int i = 0; i < procs; ++i) {
      ps[i].id = i;
      ps[i].rand_state = 0x9e3779b9u * static_cast<std::uint32_t>(i + 1);
    }
    sched.allp = ps.get();
    sched.gomaxprocs = procs;
    steal_reset(procs);
  }
  ~FakePs() {
    sched.allp = nullptr;
    sched.gomaxprocs = 0;
  }
  P* operator[](int i) { return &ps[i]; }
  std::unique_ptr<P[]> ps;
};

// Which P's head each load of a ring's head touched (runq_head_probe).
std::vector<int> visits;
void log_visit(RunqHead& head, std::uint32_t) {
  for (int i = 0; i < sched.gomaxprocs; ++i) {
    if (&head == &sched.allp[i].runq_head) {
      visits.push_back(i);
      return;
    }
  }
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
  return s;
}

}  // namespace

GRADED_TEST("search: steal_work visits every other P once per pass in random orders", 10,
            "Task 2: steal_work") {
  constexpr int kProcs = 8;
  FakePs ps(kProcs);
  // Every ring empty: steal_work makes all its passes and finds nothing.
  // The probe logs which heads it read, in order (ours filtered out).
  visits.clear();
  runq_head_probe.store(log_visit);
  G* g = steal_work(ps[3]);
  runq_head_probe.store(nullptr);
  CHECK_MESSAGE(g == nullptr, "steal_work found a G where there is none");
  // Each visit of an empty victim reads its head the same number of times
  // (once in Go's runqgrab): L reads per visit, 4 passes of 7 visits.
  std::vector<int> others;
  for (int v : visits) {
    if (v != 3) others.push_back(v);
  }
  const std::size_t per_pass_min = kProcs - 1;
  const std::size_t total_min = kStealTries * per_pass_min;
  REQUIRE_MESSAGE((!others.empty() && others.size() % total_min == 0),
                  "steal_work looked at the other Ps' heads in this order: ", join(others),
                  "; expected kStealTries = ", kStealTries, " passes over the ", kProcs - 1,
                  " other Ps, each visited once per pass");
  const std::size_t reads = others.size() / total_min;  // head reads per visit
  std::vector<std::vector<int>> passes;
  for (int k = 0; k < kStealTries; ++k) {
    std::vector<int> pass;
    for (std::size_t j = 0; j < per_pass_min; ++j) {
      pass.push_back(others[(static_cast<std::size_t>(k) * per_pass_min + j) * reads]);
    }
    std::vector<int> sorted = pass;
    std::sort(sorted.begin(), sorted.end());
    const std::vector<int> want{0, 1, 2, 4, 5, 6, 7};
    CHECK_MESSAGE(
        sorted == want, "pass ", k + 1, " visited ", join(pass),
        ": each pass must visit every other P exactly once (all head reads: ", join(others), ")");
    passes.push_back(pass);
  }
  // Over many searches, every P is sometimes the first victim.
  std::vector<int> first(kProcs, 0);
  for (int r = 0; r < 200; ++r) {
    visits.clear();
    runq_head_probe.store(log_visit);
    steal_work(ps[3]);
    runq_head_probe.store(nullptr);
    for (int v : visits) {
      if (v != 3) {
        ++first[static_cast<std::size_t>(v)];
        break;
      }
    }
  }
  for (int i = 0; i < kProcs; ++i) {
    if (i == 3) continue;
    CHECK_MESSAGE(first[static_cast<std::size_t>(i)] > 0, "in 200 searches P", i,
                  " was never the first victim: start each pass at a random P");
  }
  bool all_same = true;
  for (auto& pass : passes) all_same &= pass == passes[0];
  CHECK_MESSAGE(!all_same, "all ", kStealTries, " passes visited the Ps in the same order (",
                join(passes[0]), "): draw a fresh random start and stride for every pass");

  // Work on one P only, wherever it is: found, and half of it taken.
  Gs gs(6 * kProcs);
  for (int v = 0; v < kProcs; ++v) {
    if (v == 3) continue;
    CAPTURE(v);
    put_range(ps[v], gs, 6 * v, 6 * v + 6);
    g = steal_work(ps[3]);
    REQUIRE_MESSAGE(g != nullptr, "steal_work missed the 6 Gs of P", v);
    CHECK_MESSAGE(g->id == static_cast<std::uint64_t>(6 * v + 3), "steal_work returned G", g->id,
                  "; it must return the last of the half it took (the 3rd of P", v, "'s 6)");
    CHECK_MESSAGE(runq_len(ps[3]) == 2u, "the thief's ring holds ", runq_len(ps[3]),
                  " Gs after stealing half of 6 (expected 2: the other two of the batch)");
    CHECK_MESSAGE(runq_len(ps[v]) == 3u, "the victim kept ", runq_len(ps[v]), " of 6, expected 3");
    drain(ps[3]);
    drain(ps[v]);
  }

  // Only a runnext G anywhere: taken on the last pass.
  ps[5]->runnext.store(gs[0]);
  g = steal_work(ps[3]);
  CHECK_MESSAGE(g == gs[0],
                "steal_work left a runnext G behind when nothing else was there: "
                "the last pass takes runnext Gs");
  ps[5]->runnext.store(nullptr);
}

GRADED_TEST("spinning: at most half the busy Ps' worth of Ms spin even when they race", 8,
            "Task 3: the spinning limit") {
  {
    FakeSched s(8, 4, 0);  // 4 busy Ps: at most 2 spinners
    M a, b, c;
    CHECK_MESSAGE(begin_spinning(&a), "the first M must be allowed to spin (2*0 < 4 busy)");
    CHECK_MESSAGE(begin_spinning(&b), "the second M must be allowed to spin (2*1 < 4 busy)");
    CHECK_MESSAGE(!begin_spinning(&c),
                  "a third spinner with 4 busy Ps breaks the limit "
                  "2 * nmspinning < gomaxprocs - npidle");
    CHECK_MESSAGE(sched.nmspinning.load() == 2, "nmspinning is ", sched.nmspinning.load(),
                  ", expected 2");
    CHECK_MESSAGE((a.spinning && b.spinning && !c.spinning), "m->spinning must say who spins");
    CHECK_MESSAGE(begin_spinning(&a), "an M already spinning stays spinning");
    CHECK_MESSAGE(sched.nmspinning.load() == 2, "an M already spinning must not be counted twice");
  }
  {
    FakeSched s(8, 7, 0);  // 1 busy P: one spinner
    M a, b;
    CHECK(begin_spinning(&a));
    CHECK_MESSAGE(!begin_spinning(&b), "with 1 busy P only one M may spin");
  }
  {
    // Four Ms decide at once with 4 busy Ps: exactly 2 may spin, whatever
    // the interleaving (a check then an increment lets more through).
    FakeSched s(16, 12, 0);
    constexpr int kMs = 4;
    for (int round = 0; round < 100; ++round) {
      sched.nmspinning.store(0);
      std::vector<M> ms(kMs);
      std::atomic<int> go{0}, yes{0};
      std::vector<std::thread> ts;
      for (int i = 0; i < kMs; ++i) {
        ts.emplace_back([&, i] {
          go.fetch_add(1);
          while (go.load() < kMs) std::this_thread::yield();
          if (begin_spinning(&ms[static_cast<std::size_t>(i)])) yes.fetch_add(1);
        });
      }
      for (auto& t : ts) t.join();
      REQUIRE_MESSAGE(yes.load() == 2, "round ", round, ": ", yes.load(),
                      " of 4 racing Ms became spinning with 4 busy Ps (limit 2): increment "
                      "nmspinning by compare-and-swap against the limit");
      REQUIRE(sched.nmspinning.load() == 2);
    }
  }
}

GRADED_TEST("spinning: the last spinner to find work passes the search on", 6,
            "Task 3: the spinning limit") {
  FakeSched s(8, 0, 3);
  M a, b, c, idle;
  a.spinning = b.spinning = c.spinning = true;
  CHECK_MESSAGE(!reset_spinning(&a), "two other Ms still spin: no need to wake another");
  CHECK_MESSAGE(!a.spinning, "reset_spinning must clear m->spinning");
  CHECK_MESSAGE(sched.nmspinning.load() == 2, "nmspinning is ", sched.nmspinning.load(),
                " after one of 3 spinners stopped: decrement it");
  CHECK(!reset_spinning(&b));
  CHECK_MESSAGE(reset_spinning(&c),
                "the LAST spinner found work: reset_spinning must return "
                "true, so that find_runnable wakes another M (wakep)");
  CHECK_MESSAGE(sched.nmspinning.load() == 0, "nmspinning is ", sched.nmspinning.load(),
                " once no M spins");
  CHECK_MESSAGE(!reset_spinning(&idle), "an M that was not spinning has nothing to reset");
  CHECK_MESSAGE(sched.nmspinning.load() == 0, "resetting a non-spinning M changed nmspinning");
}
