// Demo: the seed's three "asynchronous system call" figures, printed from a
// real run of the runtime rather than drawn by hand.
//
// One P (so every step is exact). G_reader reads a socket that has no data
// yet; G_worker waits in the run queue behind it. The program takes a
// gort::debug::snapshot() at the three moments of the figures and prints what
// the scheduler really holds: who runs on the thread, who is queued, who
// waits and why, and how many OS threads exist. Loopback only.
#include <gort/gort.hpp>
#include <gort/net.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::uint64_t reader_id = 0, worker_id = 0;

const char* role(std::uint64_t id) {
  if (id == reader_id) return "G_reader";
  if (id == worker_id) return "G_worker";
  return nullptr;
}

struct Figure {
  int n;
  const char* caption;
  gort::debug::Snapshot snap;
};
std::vector<Figure> figures;

void figure(int n, const char* caption) {
  figures.push_back({n, caption, gort::debug::snapshot()});
}

std::string name(std::uint64_t id) {
  const char* r = role(id);
  return r ? r : "G" + std::to_string(id);
}

void print(const Figure& f) {
  const auto& s = f.snap;
  std::printf("\nFigure %d: %s\n", f.n, f.caption);
  const auto& p = s.procs.at(0);
  std::string running = "(nothing)", queue;
  for (const auto& m : s.threads) {
    if (m.p == 0 && m.curg != 0) running = name(m.curg);
  }
  if (p.runnext) queue += name(p.runnext) + " (runnext) ";
  for (auto id : p.runq) queue += name(id) + " ";
  std::printf("  OS threads (Ms): %zu    P0 runs: %s    P0 run queue: %s\n", s.threads.size(),
              running.c_str(), queue.empty() ? "(empty)" : queue.c_str());
  for (const auto& g : s.goroutines) {
    if (!role(g.id) || g.status != gort::GStatus::waiting) continue;
    std::printf("  %s waits: \"%s\", parked: it holds no thread\n", role(g.id),
                gort::to_string(g.wait_reason));
  }
}

}  // namespace

int main() {
  return gort::run(
      [] {
        auto ln = gort::net::listen("127.0.0.1:0");
        auto client = gort::net::dial(ln.addr());
        auto server = ln.accept();
        // G_worker is started first and G_reader second: G_reader goes to
        // runnext and runs first, G_worker waits in the queue behind it.
        gort::Chan<int> done;
        std::string got;
        gort::go([&] {  // G_worker
          worker_id = gort::debug::goroutine_id();
          figure(2, "read() said EAGAIN: G_reader parked in the poller; G_worker took the thread");
          client.write_all("hello", 5);  // makes G_reader's socket readable
        });
        gort::go([&] {  // G_reader
          reader_id = gort::debug::goroutine_id();
          figure(1, "G_reader runs on the thread and is about to read; G_worker is queued");
          char buf[64];
          std::size_t n = server.read(buf, sizeof buf);  // EAGAIN: parks in the poller
          figure(3, "the data came: netpoll readied G_reader, which runs again on the same thread");
          got.assign(buf, n);
          done.send(1);
        });
        done.recv();
        for (const auto& f : figures) print(f);
        std::printf("\nG_reader read \"%s\".\n", got.c_str());
        std::printf(
            "\n(the seed draws a separate poller thread; there is none: %llu thread in "
            "this run, and find_runnable polled epoll when the queue ran dry)\n",
            static_cast<unsigned long long>(gort::debug::snapshot().threads.size()));
      },
      {.procs = 1});
}
