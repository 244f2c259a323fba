// syscall_moments.hpp — the seed's three synchronous-system-call figures,
// taken from a real run and drawn (Lab 05). Used by demos/demo_syscall.cpp,
// which prints them, and by solution/demo/trace_diagrams.cpp, which writes
// the committed solution/diagrams/syscall_*.dot (`make diagrams`).
//
// One P, so every step is exact; nothing waits on a clock:
//   1. G1 runs on its M with the P; the goroutines it started wait in the
//      P's run queue (the newest in runnext). G1 takes the snapshot.
//   2. G1 reads an empty pipe through gort::syscall_block: its M blocks in
//      read(2) with G1 and no P; the P went to another M (new or parked),
//      which runs the runnext goroutine. That goroutine takes the snapshot,
//      then writes the byte G1 waits for.
//   3. G1's read returns while the P is busy: exitsyscall finds no P, puts
//      G1 on a run queue and parks its M on the idle-M list. The goroutine
//      holding the P (it never gives it up meanwhile) takes snapshots until
//      it sees exactly that state.
// The figures name Ms and Gs by number (never kernel thread ids or times),
// so they are the same on every run.
#pragma once

#include <unistd.h>
#include <gort/gort.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace syscall_moments {

/// The three snapshots and the goroutine that made the call.
struct Moments {
  std::array<gort::debug::Snapshot, 3> snap;
  std::uint64_t caller = 0;  ///< the goroutine in the system call (G1)
};

/// The captions of the three figures.
inline const char* caption(int i) {
  static const char* const c[3] = {
      "1. G1 runs on M0, which holds the P; the Gs it started wait in the P's run queue",
      "2. G1 is blocked in read(2): M0 and G1 left the P; another M took the P and runs "
      "the next G",
      "3. read(2) returned: G1 is back on a run queue, its old M is parked for reuse"};
  return c[i];
}

/// Runs the scenario on one P (its own gort::run; call it outside a run).
/// Exits the program with a message if the runtime cannot hand off the P
/// (the Lab 05 starter) instead of hanging.
inline Moments take() {
  Moments r;
  int fds[2];
  if (::pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  gort::run(
      [&] {
        r.caller = gort::debug::goroutine_id();
        gort::WaitGroup wg;
        wg.add(3);
        gort::go([&] { wg.done(); });
        gort::go([&] { wg.done(); });
        gort::go([&] {  // the newest: runnext, the first to run on the new M
          r.snap[1] = gort::debug::snapshot();
          if (::write(fds[1], "x", 1) != 1) std::abort();
          // Keep the P (no scheduling point) until G1 is queued and its M
          // parked; bounded so that a broken runtime ends the demo.
          auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          for (;;) {
            r.snap[2] = gort::debug::snapshot();
            bool queued = false, parked = false;
            for (const auto& g : r.snap[2].goroutines) {
              queued |= g.id == r.caller && g.status == gort::GStatus::runnable;
            }
            for (const auto& m : r.snap[2].threads) parked |= m.idle;
            if ((queued && parked) || std::chrono::steady_clock::now() > give_up) break;
          }
          wg.done();
        });
        r.snap[0] = gort::debug::snapshot();
        char c;
        (void)gort::syscall_block(::read, fds[0], &c, 1);
        wg.wait();
      },
      {.procs = 1});
  ::close(fds[0]);
  ::close(fds[1]);
  return r;
}

inline std::string gname(std::uint64_t id) { return "G" + std::to_string(id); }

inline const gort::debug::GInfo* find_g(const gort::debug::Snapshot& s, std::uint64_t id) {
  for (const auto& g : s.goroutines) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

/// A queue as a table: runnext first (if any), then the ring, head first.
inline std::string queue_label(const char* title, std::uint64_t runnext,
                               const std::vector<std::uint64_t>& ids) {
  std::ostringstream s;
  s << "<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\">"
    << "<tr><td bgcolor=\"#dddddd\"><b>" << title << "</b></td></tr>";
  if (runnext) s << "<tr><td bgcolor=\"#fdebd0\">" << gname(runnext) << " (runnext)</td></tr>";
  for (auto id : ids) s << "<tr><td>" << gname(id) << "</td></tr>";
  if (!runnext && ids.empty()) s << "<tr><td>(empty)</td></tr>";
  s << "</table>>";
  return s.str();
}

/// Writes snapshot @p s as Graphviz dot: each M holding a P above it, the P
/// above the G it runs with its run queue (LRQ) beside it; an M without a P
/// above the G blocked in its system call; a parked M alone; the global run
/// queue when it is not empty.
inline void write_dot(std::ostream& f, const gort::debug::Snapshot& s, const std::string& name,
                      const char* title) {
  f << "// " << title << "\n"
    << "// From gort::debug::snapshot() of a one-P run (demos/syscall_moments.hpp).\n"
    << "digraph " << name << " {\n"
    << "  rankdir=TB; nodesep=0.5; ranksep=0.45; labelloc=t; fontname=\"Helvetica\";\n"
    << "  fontsize=12; label=\"" << title << "\";\n"
    << "  node [fontname=\"Helvetica\", fontsize=11];\n"
    << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (const auto& m : s.threads) {
    std::string mn = "M" + std::to_string(m.id);
    if (m.idle) {
      f << "  " << mn << " [shape=box, style=\"filled,dashed\", fillcolor=\"#eeeeee\", label=\""
        << mn << "\\nparked on the idle-M list\"];\n";
      continue;
    }
    f << "  " << mn << " [shape=box, style=filled, fillcolor=\"#a9cce3\", label=\"" << mn
      << "\\n(OS thread)\"];\n";
    const gort::debug::GInfo* g = m.curg ? find_g(s, m.curg) : nullptr;
    if (m.p >= 0) {
      const auto& p = s.procs.at(m.p);
      std::string pn = "P" + std::to_string(p.id);
      f << "  " << pn << " [shape=box, style=filled, fillcolor=\"#f9e79f\", label=\"" << pn
        << "\"];\n"
        << "  " << mn << " -> " << pn << " [label=\"holds\"];\n"
        << "  lrq" << p.id << " [shape=plaintext, label=" << queue_label("LRQ", p.runnext, p.runq)
        << "];\n"
        << "  " << pn << " -> lrq" << p.id << " [style=dashed, label=\"run queue\"];\n"
        << "  { rank=same; " << pn << "; lrq" << p.id << "; }\n";
      if (g) {
        f << "  " << gname(g->id) << " [shape=circle, style=filled, fillcolor=\"#82e0aa\", label=\""
          << gname(g->id) << "\\nrunning\"];\n"
          << "  " << pn << " -> " << gname(g->id) << " [label=\"runs\"];\n";
      }
    } else if (g && g->status == gort::GStatus::syscall) {
      f << "  " << gname(g->id) << " [shape=circle, style=filled, fillcolor=\"#f5b7b1\", label=\""
        << gname(g->id) << "\\nin syscall\"];\n"
        << "  " << mn << " -> " << gname(g->id) << " [label=\"blocked in read(2), no P\"];\n";
    }
  }
  if (!s.global_runq.empty()) {
    f << "  grq [shape=plaintext, label=" << queue_label("GRQ (global)", 0, s.global_runq)
      << "];\n";
  }
  f << "}\n";
}

/// Prints snapshot @p s as text: each M, what it holds and runs, the queues.
inline void print(const gort::debug::Snapshot& s, const char* title) {
  std::printf("\n%s\n", title);
  for (const auto& m : s.threads) {
    std::printf("  M%d: ", m.id);
    const gort::debug::GInfo* g = m.curg ? find_g(s, m.curg) : nullptr;
    if (m.idle) {
      std::printf("parked on the idle-M list\n");
    } else if (m.p >= 0) {
      const auto& p = s.procs.at(m.p);
      std::printf("holds P%d, runs %s; P%d's queue:", p.id, g ? gname(g->id).c_str() : "-", p.id);
      if (p.runnext) std::printf(" %s (runnext)", gname(p.runnext).c_str());
      for (auto id : p.runq) std::printf(" %s", gname(id).c_str());
      std::printf("\n");
    } else if (g && g->status == gort::GStatus::syscall) {
      std::printf("no P, blocked in a system call with %s\n", gname(g->id).c_str());
    } else {
      std::printf("no P, %s\n", g ? gname(g->id).c_str() : "looking for work");
    }
  }
  std::printf("  global run queue:");
  for (auto id : s.global_runq) std::printf(" %s", gname(id).c_str());
  std::printf("%s\n", s.global_runq.empty() ? " (empty)" : "");
}

}  // namespace syscall_moments
