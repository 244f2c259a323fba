// gmp_diagram — draws the scheduler from a real run (Graphviz .dot).
//
// The program runs a small workload on 2 Ps in which, at one chosen moment,
// goroutines are in every interesting state: parked on a channel receive, on a
// channel send, on a timer (sleep), on a WaitGroup and on a Mutex; runnable in
// a P's runnext slot and local run queue; running on an M; and one maybe
// spinning on the other P. An ordinary OS thread outside the runtime takes
// gort::debug::snapshot() at that moment (main keeps running meanwhile, so the
// goroutines it just started stay queued), then main releases everything and
// checks that every goroutine finished.
//
// Output (argv[1]): built as `gmp_diagram` — who owns whom: Ms → the P each
//   holds → its runnext and run queue → Gs, the global queue, and parked Gs
//   grouped by wait reason (a parked G belongs to no P: it hangs off the
//   channel, timer or lock that will ready it).
//   Built as `gstate_diagram` (GORT_DIAGRAM_STATES) — the G state machine,
//   each state labelled with how many Gs the snapshot found in it and each
//   edge with the counts the runtime exposes (gort::debug::stats()).
// The docs build runs both (GORT_DIAGRAMS) into docs/diagrams/generated/.
#include <gort/gort.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

struct Captured {
  gort::debug::Snapshot snap;
  gort::debug::Stats stats_at_snap;
  gort::debug::Stats stats_end;
};

// Spins (without yielding: it keeps its P) until `flag` is set or a deadline,
// so nothing can hang if the runtime schedules differently than expected.
void spin_until(const std::atomic<bool>& flag, std::chrono::milliseconds limit) {
  auto end = Clock::now() + limit;
  while (!flag.load(std::memory_order_acquire) && Clock::now() < end) {
  }
}

bool run_workload(Captured& out) {
  std::atomic<bool> want_snapshot{false}, have_snapshot{false}, release_spinner{false};
  std::thread observer([&] {
    spin_until(want_snapshot, std::chrono::seconds(10));
    out.snap = gort::debug::snapshot();
    out.stats_at_snap = gort::debug::stats();
    have_snapshot.store(true, std::memory_order_release);
  });

  std::atomic<int> finished{0};
  int started = 0;
  gort::run(
      [&] {
        gort::WaitGroup all, gate_wg;
        gort::Mutex mu;
        gort::Chan<int> inbox;   // receivers park here ("chan receive")
        gort::Chan<int> outbox;  // senders park here ("chan send")
        auto spawn = [&](auto f) {
          ++started;
          all.add(1);
          gort::go([&, f] {
            f();
            finished.fetch_add(1);
            all.done();
          });
        };
        for (int i = 0; i < 3; ++i) spawn([&] { (void)inbox.recv(); });
        for (int i = 0; i < 2; ++i) spawn([&, i] { outbox.send(i); });
        for (int i = 0; i < 2; ++i) spawn([] { gort::sleep_for(std::chrono::milliseconds(300)); });
        gate_wg.add(1);
        spawn([&] { gate_wg.wait(); });
        mu.lock();
        spawn([&] {
          mu.lock();
          mu.unlock();
        });
        spawn([&] { spin_until(release_spinner, std::chrono::milliseconds(500)); });
        // Let all of them run and park (the spinner keeps whichever P it got).
        gort::sleep_for(std::chrono::milliseconds(30));

        // Now start a burst and, without blocking, have the observer look.
        for (int i = 0; i < 5; ++i) spawn([] {});
        want_snapshot.store(true, std::memory_order_release);
        spin_until(have_snapshot, std::chrono::seconds(5));

        // Release everything and check that all of it finishes.
        release_spinner.store(true);
        inbox.close();
        (void)outbox.recv();
        (void)outbox.recv();
        gate_wg.done();
        mu.unlock();
        all.wait();
      },
      {.procs = 2});
  want_snapshot.store(true);
  observer.join();
  out.stats_end = gort::debug::stats();
  if (finished.load() != started || !have_snapshot.load()) {
    std::fprintf(stderr, "gmp_diagram: %d of %d goroutines finished, snapshot %s\n",
                 finished.load(), started, have_snapshot.load() ? "taken" : "missing");
    return false;
  }
  return true;
}

const char* state_color(gort::GStatus s) {
  switch (s) {
    case gort::GStatus::running:
      return "palegreen";
    case gort::GStatus::runnable:
      return "lightyellow";
    case gort::GStatus::waiting:
      return "lightblue";
    case gort::GStatus::syscall:
      return "orange";
    default:
      return "lightgrey";
  }
}

std::string g_node(const gort::debug::GInfo& g) {
  std::ostringstream s;
  s << "  g" << g.id << " [label=\"G" << g.id << (g.id == 1 ? " (main)" : "") << "\\n"
    << gort::to_string(g.status);
  if (g.wait_reason != gort::WaitReason::none) s << "\\n" << gort::to_string(g.wait_reason);
  s << "\", style=filled, fillcolor=" << state_color(g.status) << "];\n";
  return s.str();
}

void write_ownership(std::ostream& o, const Captured& c) {
  const auto& snap = c.snap;
  std::map<std::uint64_t, const gort::debug::GInfo*> by_id;
  for (auto& g : snap.goroutines) by_id[g.id] = &g;
  std::map<std::uint64_t, bool> drawn;
  auto draw = [&](std::uint64_t id) {
    if (drawn[id]) return;
    drawn[id] = true;
    if (auto it = by_id.find(id); it != by_id.end()) {
      o << g_node(*it->second);
    } else {
      o << "  g" << id << " [label=\"G" << id << "\\n(finished)\", style=dashed];\n";
    }
  };
  o << "// Generated by gmp_diagram from a real gort run (2 Ps); do not edit.\n"
    << "digraph gmp {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
    << "  edge [fontname=\"Helvetica\", fontsize=9];\n"
    << "  labelloc=t; label=\"G/M/P ownership at one moment of a real run (gort::debug::snapshot)"
       "\\n"
    << snap.procs.size() << " Ps, " << snap.threads.size() << " Ms, " << snap.goroutines.size()
    << " live Gs; idle Ps: " << snap.idle_procs << ", spinning Ms: " << snap.spinning_threads
    << "\";\n";

  o << "  subgraph cluster_m {\n    label=\"Ms (OS threads)\"; style=rounded;\n";
  for (auto& m : snap.threads) {
    o << "    m" << m.id << " [shape=box3d, label=\"M" << m.id << "\\ntid " << m.tid
      << (m.spinning ? "\\nspinning" : "") << (m.idle ? "\\nidle (parked on its note)" : "")
      << (m.curg == 0 && !m.idle ? "\\non g0 (scheduler)" : "") << "\"];\n";
  }
  o << "  }\n  subgraph cluster_p {\n    label=\"Ps (processors)\"; style=rounded;\n";
  for (auto& p : snap.procs) {
    o << "    p" << p.id << " [shape=component, label=\"P" << p.id << "\\n"
      << gort::to_string(p.status) << "\\nschedtick " << p.schedtick << "\\nrunq " << p.runq_len
      << "/256\"];\n";
  }
  o << "  }\n";
  for (auto& m : snap.threads) {
    if (m.p >= 0) o << "  m" << m.id << " -> p" << m.p << " [label=\"holds\", penwidth=2];\n";
    if (m.curg) {
      draw(m.curg);
      o << "  m" << m.id << " -> g" << m.curg << " [label=\"curg (running)\", color=darkgreen];\n";
    }
  }
  for (auto& p : snap.procs) {
    if (p.runnext) {
      draw(p.runnext);
      o << "  p" << p.id << " -> g" << p.runnext << " [label=\"runnext\", color=red];\n";
    }
    std::string prev = "p" + std::to_string(p.id);
    const char* lbl = "runq head";
    for (auto id : p.runq) {
      draw(id);
      o << "  " << prev << " -> g" << id << " [label=\"" << lbl << "\"];\n";
      prev = "g" + std::to_string(id);
      lbl = "next";
    }
  }
  o << "  globrunq [shape=cylinder, label=\"global run queue\\n"
    << snap.global_runq.size() << " G(s)\"];\n";
  std::string prev = "globrunq";
  for (auto id : snap.global_runq) {
    draw(id);
    o << "  " << prev << " -> g" << id << ";\n";
    prev = "g" + std::to_string(id);
  }
  // Parked goroutines: owned by no P; grouped by what will ready them.
  std::map<std::string, std::vector<const gort::debug::GInfo*>> parked;
  for (auto& g : snap.goroutines) {
    if (drawn[g.id]) continue;
    std::string key = g.status == gort::GStatus::waiting ? gort::to_string(g.wait_reason)
                                                         : gort::to_string(g.status);
    parked[key].push_back(&g);
  }
  int cluster = 0;
  for (auto& [reason, gs] : parked) {
    o << "  subgraph cluster_w" << cluster++ << " {\n    label=\"" << reason
      << "\\n(no P owns these; the object they wait on will ready them)\"; style=dashed;\n";
    for (auto* g : gs) o << "  " << g_node(*g);
    o << "  }\n";
  }
  o << "}\n";
}

void write_states(std::ostream& o, const Captured& c) {
  using gort::GStatus;
  std::map<GStatus, int> seen;
  for (auto& g : c.snap.goroutines) seen[g.status]++;
  const auto& st = c.stats_end;
  unsigned long long created = st.goroutines_created, switches = st.context_switches,
                     exited = st.goroutines_created - st.goroutines_live;
  auto state = [&](GStatus s, const char* note) {
    o << "  " << gort::to_string(s) << " [label=\"" << gort::to_string(s) << "\\n"
      << note << "\\nseen in snapshot: " << seen[s]
      << "\", style=filled, fillcolor=" << state_color(s) << "];\n";
  };
  o << "// Generated by gstate_diagram from a real gort run (2 Ps); do not edit.\n"
    << "digraph gstates {\n  rankdir=LR;\n  node [shape=ellipse, fontname=\"Helvetica\", "
       "fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n"
    << "  labelloc=t; label=\"G state machine: counts from one run (gort::debug::stats, "
       "snapshot)\";\n";
  state(GStatus::idle, "allocated");
  state(GStatus::runnable, "in runnext / a run queue");
  state(GStatus::running, "on an M holding a P");
  state(GStatus::waiting, "parked (chan, sleep, lock)");
  state(GStatus::syscall, "blocking syscall (Lab 05)");
  state(GStatus::dead, "on the free list");
  o << "  idle -> dead [label=\"first allocation\"];\n"
    << "  dead -> runnable [label=\"go(): " << created << " created\\n(main included)\"];\n"
    << "  runnable -> running [label=\"execute: " << switches << " switches\"];\n"
    << "  running -> runnable [label=\"yield\"];\n"
    << "  running -> waiting [label=\"park\"];\n"
    << "  waiting -> runnable [label=\"ready\"];\n"
    << "  running -> dead [label=\"exit: " << exited << "\"];\n"
    << "  running -> syscall [style=dashed, label=\"Lab 05\"];\n"
    << "  syscall -> running [style=dashed];\n"
    << "  syscall -> runnable [style=dashed, label=\"P was handed off\"];\n"
    << "  note [shape=note, label=\"yield + park = "
    << (switches >= created ? switches - created : 0)
    << "\\n(switches that were not a first run;\\nthe runtime does not count them apart)\"];\n"
    << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.dot\n", argv[0]);
    return 2;
  }
  Captured c;
  if (!run_workload(c)) return 1;
  std::ofstream out(argv[1]);
  if (!out) {
    std::fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[1]);
    return 1;
  }
#ifdef GORT_DIAGRAM_STATES
  constexpr bool kStates = true;
#else
  constexpr bool kStates = false;
#endif
  if (kStates) {
    write_states(out, c);
  } else {
    write_ownership(out, c);
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "%s: writing %s failed\n", argv[0], argv[1]);
    return 1;
  }
  std::printf("wrote %s (%zu goroutines, %zu Ps, %zu Ms in the snapshot)\n", argv[1],
              c.snap.goroutines.size(), c.snap.procs.size(), c.snap.threads.size());
  return 0;
}
