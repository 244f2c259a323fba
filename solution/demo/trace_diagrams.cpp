// trace_diagrams — the inputs of the committed figures in solution/diagrams/
// (`make diagrams`, scripts/diagrams.sh), each from a real run on ONE P, where
// the scheduler's order is fixed, so the figures regenerate identically:
//
//   lifetime.json   the execution trace of goroutine 2 going through every
//                   state: created (runnable), running, waiting on a channel,
//                   readied by its sender, waiting on a Mutex, on a sleep
//                   (readied by the timer), yielding, and exiting.
//   pingpong.json   two goroutines playing ping-pong over unbuffered channels
//                   while a third yields: the runnext hand-off on one P.
//   gmp_queues.dot  M → P → G with the P's runnext and local run queue (LRQ)
//                   beside it and the global run queue (GRQ) apart, as the
//                   classic articles draw it, from gort::debug::snapshot()
//                   taken by the running goroutine after it started 300
//                   others: 256 fit the ring, so half of it went to the GRQ.
//   syscall_1.dot   the seed's three synchronous-system-call figures: G1
//   syscall_2.dot   running, G1 blocked in read(2) while another M runs the
//   syscall_3.dot   P, G1 back on a run queue and its M parked
//                   (demos/syscall_moments.hpp, shared with demo_syscall).
//
// scripts/trace_timeline.py draws the traces (--logical: in event order), dot
// the graph. Usage: trace_diagrams OUTDIR
#include <gort/gort.hpp>

#include "../../demos/syscall_moments.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

void lifetime(const std::string& path) {
  gort::run(
      [] {
        gort::Chan<int> c;
        gort::Mutex mu;
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&] {
          (void)c.recv();  // waiting (chan receive), readied by main's send
          mu.lock();       // waiting (sync.Mutex.Lock), readied by main's unlock
          mu.unlock();     //
          gort::sleep_for(std::chrono::milliseconds(5));  // waiting (sleep), the timer readies it
          gort::yield();  // runnable again at once: nothing else to run
          wg.done();      // readies main; then exits
        });
        mu.lock();
        gort::yield();  // G2 runs and parks on the receive
        c.send(1);      // G2 is ready (runnext); main goes on
        gort::yield();  // G2 runs, parks on the Mutex
        mu.unlock();    // readies G2
        wg.wait();      // main waits; G2 runs to the end
      },
      {.procs = 1, .trace = path.c_str()});
}

void pingpong(const std::string& path) {
  gort::run(
      [] {
        gort::Chan<int> ping, pong;
        gort::WaitGroup wg;
        wg.add(3);
        gort::go([&] {
          for (int i = 0; i < 3; ++i) pong.send(*ping.recv() + 1);
          wg.done();
        });
        gort::go([&] {
          for (int i = 0; i < 3; ++i) gort::yield();
          wg.done();
        });
        gort::go([&] {
          for (int i = 0; i < 3; ++i) {
            ping.send(i);
            (void)pong.recv();
          }
          wg.done();
        });
        wg.wait();
      },
      {.procs = 1, .trace = path.c_str()});
}

std::string gname(std::uint64_t id) { return "G" + std::to_string(id); }

/// A vertical queue as an HTML-like label: the first few ids, then "... (n)".
std::string queue_label(const char* title, const std::vector<std::uint64_t>& ids) {
  std::ostringstream s;
  s << "<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\">"
    << "<tr><td bgcolor=\"#dddddd\"><b>" << title << "</b> (" << ids.size() << ")</td></tr>";
  std::size_t shown = ids.size() <= 6 ? ids.size() : 4;
  for (std::size_t i = 0; i < shown; ++i) s << "<tr><td>" << gname(ids[i]) << "</td></tr>";
  if (shown < ids.size()) {
    s << "<tr><td>...</td></tr><tr><td>" << gname(ids.back()) << "</td></tr>";
  }
  s << "</table>>";
  return s.str();
}

void gmp_queues(const std::string& path) {
  gort::debug::Snapshot snap;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(300);
        for (int i = 0; i < 300; ++i) gort::go([&] { wg.done(); });
        snap = gort::debug::snapshot();  // main runs; 300 goroutines wait for the P
        wg.wait();
      },
      {.procs = 1});
  const gort::debug::PInfo& p = snap.procs.at(0);
  const gort::debug::MInfo& m = snap.threads.at(0);
  std::ofstream f(path);
  f << "// M -> P -> G with the local and global run queues: one P, from\n"
    << "// gort::debug::snapshot() (solution/demo/trace_diagrams.cpp).\n"
    << "digraph gmp_queues {\n"
    << "  rankdir=TB; nodesep=0.5; ranksep=0.45;\n"
    << "  node [fontname=\"Helvetica\", fontsize=11];\n"
    << "  edge [fontname=\"Helvetica\", fontsize=9];\n"
    << "  M" << m.id << " [shape=box, style=filled, fillcolor=\"#a9cce3\", label=\"M" << m.id
    << "\\n(OS thread)\"];\n"
    << "  P" << p.id << " [shape=box, style=filled, fillcolor=\"#f9e79f\", label=\"P" << p.id
    << "\\nschedtick " << p.schedtick << "\"];\n"
    << "  run [shape=circle, style=filled, fillcolor=\"#82e0aa\", label=\"" << gname(m.curg)
    << "\\nrunning\"];\n"
    << "  M" << m.id << " -> P" << p.id << " [label=\"holds\"];\n"
    << "  P" << p.id << " -> run [label=\"runs\"];\n";
  if (p.runnext != 0) {
    f << "  runnext [shape=circle, style=filled, fillcolor=\"#fdebd0\", label=\""
      << gname(p.runnext) << "\\nrunnext\"];\n"
      << "  P" << p.id << " -> runnext [style=dashed, label=\"next\"];\n"
      << "  { rank=same; P" << p.id << "; runnext; }\n";
  }
  f << "  lrq [shape=plaintext, label=" << queue_label("LRQ", p.runq) << "];\n"
    << "  P" << p.id << " -> lrq [style=dashed, label=\"local run queue\"];\n"
    << "  { rank=same; P" << p.id << "; lrq; }\n"
    << "  grq [shape=plaintext, label=" << queue_label("GRQ", snap.global_runq) << "];\n"
    << "  { rank=same; M" << m.id << "; grq; }\n"
    << "  M" << m.id << " -> grq [style=invis];\n"
    << "  note [shape=note, fontsize=9, label=\"global run queue: every P takes from it\\n"
    << "(1 in 61 schedule ticks first; when its LRQ is empty)\"];\n"
    << "  grq -> note [style=dotted, arrowhead=none];\n"
    << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  lifetime(dir + "/lifetime.json");
  pingpong(dir + "/pingpong.json");
  gmp_queues(dir + "/gmp_queues.dot");
  auto mo = syscall_moments::take();
  for (int i = 0; i < 3; ++i) {
    std::string name = "syscall_" + std::to_string(i + 1);
    std::ofstream f(dir + "/" + name + ".dot");
    syscall_moments::write_dot(f, mo.snap[i], name, syscall_moments::caption(i));
  }
  return 0;
}
