// Demo: the seed's synchronous-system-call scenario, from a real run (Lab 05).
//
// One P. G3 reads a FIFO with gort::read_file; a plain thread writes it
// slowly (three chunks, 30 ms apart), so read(2) blocks G3's thread.
// G4 keeps running meanwhile: sysmon retook the P from the blocked call and
// handed it to another thread. When the read returns, G3 goes back to a run
// queue, and the thread it blocked is parked on the idle-M list for reuse.
// Every line prints the kernel thread id, so "thread 1" and "thread 2" are
// real threads. Then the seed's three figures as scheduler snapshots
// (demos/syscall_moments.hpp; `demo_syscall --dot DIR` also writes them as
// Graphviz dot, the committed ones are solution/diagrams/syscall_*.svg), and
// a few figures: short calls, bursts, an idle program.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <gort/gort.hpp>

#include "syscall_moments.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

long tid() { return ::syscall(SYS_gettid); }

/// Milliseconds since the demo started.
double ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

/// State of the M whose kernel thread is @p t, from a snapshot.
std::string thread_state(long t) {
  auto snap = gort::debug::snapshot();
  for (const auto& m : snap.threads) {
    if (m.tid != t) continue;
    if (m.idle) return "parked on the idle-M list";
    for (const auto& g : snap.goroutines) {
      if (g.id == m.curg && g.status == gort::GStatus::syscall) {
        return "blocked in a system call with G" + std::to_string(g.id) + ", no P";
      }
    }
    return m.curg ? "running G" + std::to_string(m.curg) : "looking for work";
  }
  return "unknown";
}

/// The kernel thread ids of every M but @p not_this.
std::vector<long> other_threads(long not_this) {
  std::vector<long> v;
  for (const auto& m : gort::debug::snapshot().threads) {
    if (m.tid != not_this) v.push_back(m.tid);
  }
  return v;
}

/// Goroutines inside a system call right now (from a snapshot).
int in_calls() {
  int n = 0;
  for (const auto& g : gort::debug::snapshot().goroutines) n += g.status == gort::GStatus::syscall;
  return n;
}

void scenario() {
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                     "/gort_demo_syscall_" + std::to_string(::getpid()) + ".fifo";
  if (::mkfifo(path.c_str(), 0600) != 0) {
    std::perror("mkfifo");
    std::exit(1);
  }
  std::thread writer([&] {  // the slow file: opened, then written in three chunks
    FILE* f = std::fopen(path.c_str(), "w");
    for (int i = 0; i < 3 && f; ++i) {
      std::this_thread::sleep_for(30ms);
      std::fprintf(f, "chunk %d of the slow file\n", i + 1);
      std::fflush(f);
    }
    if (f) std::fclose(f);
  });
  auto t0 = std::chrono::steady_clock::now();
  gort::run(
      [&] {
        long g3_thread = 0;
        gort::WaitGroup wg;
        wg.add(3);
        gort::go([&] { wg.done(); });  // G2: so that the reader is G3 and the worker G4
        gort::go([&] {
          g3_thread = tid();
          std::printf("%6.1f ms  G3 on thread %ld: read_file(\"%s\") ...\n", ms(t0), g3_thread,
                      path.c_str());
          std::string s = gort::read_file(path);
          std::printf("%6.1f ms  G3 is back from read(2) with %zu bytes, running on thread %ld\n",
                      ms(t0), s.size(), tid());
          for (long t : other_threads(tid())) {
            std::printf("           thread %ld is %s\n", t, thread_state(t).c_str());
          }
          wg.done();
        });
        gort::go([&] {
          for (int i = 0; i < 6; ++i) {
            std::printf("%6.1f ms  G4 runs on thread %ld (thread %ld: %s)\n", ms(t0), tid(),
                        g3_thread, g3_thread ? thread_state(g3_thread).c_str() : "-");
            gort::sleep_for(15ms);
          }
          wg.done();
        });
        wg.wait();
        auto st = gort::debug::stats();
        std::printf("threads: %llu, hand-offs: %llu (retakes by sysmon: %llu), calls: %llu\n",
                    static_cast<unsigned long long>(st.threads),
                    static_cast<unsigned long long>(st.handoffs),
                    static_cast<unsigned long long>(st.retakes),
                    static_cast<unsigned long long>(st.syscalls));
      },
      {.procs = 1});
  writer.join();
  ::unlink(path.c_str());
}

void figures() {
  std::printf("\nFigures (2 Ps):\n");
  gort::run(
      [] {
        constexpr int kN = 100000;
        auto b = gort::debug::stats();
        auto per_call = [](auto&& f) {
          auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < kN; ++i) f();
          return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
                     .count() /
                 kN;
        };
        double bare = 1e9, wrapped = 1e9;  // the best of 5 alternating runs each
        for (int r = 0; r < 5; ++r) {
          bare = std::min(bare, per_call([] { (void)::getppid(); }));
          wrapped = std::min(wrapped, per_call([] { (void)gort::syscall(::getppid); }));
        }
        auto a = gort::debug::stats();
        std::printf(
            "  %d getppid calls through gort::syscall: %llu fast exits, %llu hand-offs, "
            "%llu new threads (%.0f ns a call, %.0f ns bare: noisy, see lab05_bench)\n",
            5 * kN, static_cast<unsigned long long>(a.syscall_fast_exits - b.syscall_fast_exits),
            static_cast<unsigned long long>(a.handoffs - b.handoffs),
            static_cast<unsigned long long>(a.threads - b.threads), wrapped, bare);

        constexpr int kBurst = 60;
        std::printf("  threads after each burst of %d blocked reads:", kBurst);
        for (int burst = 0; burst < 4; ++burst) {
          std::vector<std::array<int, 2>> pipes(kBurst);
          for (auto& p : pipes) {
            if (::pipe(p.data()) != 0) std::abort();
          }
          gort::WaitGroup wg;
          wg.add(kBurst);
          for (int i = 0; i < kBurst; ++i) {
            gort::go([&, i] {
              char c;
              gort::syscall_block(::read, pipes[i][0], &c, 1);
              wg.done();
            });
          }
          // Every reader inside its call (each handed its P on); bounded, so
          // a runtime without hand-off does not hang the demo.
          auto give_up = std::chrono::steady_clock::now() + 5s;
          while (in_calls() < kBurst && std::chrono::steady_clock::now() < give_up) gort::yield();
          for (auto& p : pipes) {
            if (::write(p[1], "x", 1) != 1) std::abort();
          }
          wg.wait();
          for (auto& p : pipes) {
            ::close(p[0]);
            ::close(p[1]);
          }
          std::printf(" %llu", static_cast<unsigned long long>(gort::debug::stats().threads));
        }
        std::printf("\n");

        rusage r0{}, r1{};
        ::getrusage(RUSAGE_SELF, &r0);
        auto s0 = gort::debug::stats();
        gort::sleep_for(300ms);
        auto s1 = gort::debug::stats();
        ::getrusage(RUSAGE_SELF, &r1);
        auto us = [](const rusage& r) {
          return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec +
                 r.ru_stime.tv_usec;
        };
        std::printf("  300 ms idle: %llu sysmon rounds, %.0f us of CPU for the whole process\n",
                    static_cast<unsigned long long>(s1.sysmon_rounds - s0.sysmon_rounds),
                    us(r1) - us(r0));
      },
      {.procs = 2});
}

}  // namespace

int main(int argc, char** argv) {
  std::string dot_dir = argc == 3 && std::string(argv[1]) == "--dot" ? argv[2] : "";
  if (argc != 1 && dot_dir.empty()) {
    std::fprintf(stderr, "usage: %s [--dot DIR]\n", argv[0]);
    return 2;
  }
  // The starter's hooks keep the P and count nothing: say what is missing
  // instead of showing a program that stalls.
  gort::run([] { (void)gort::syscall(::getppid); });
  if (gort::debug::stats().syscalls == 0) {
    std::fprintf(stderr,
                 "demo_syscall: needs lab 05 task 1: entersyscall (gort::syscall counted no "
                 "call; TODO in labs/05-syscall-handoff/syscall.cpp)\n");
    return 1;
  }
  std::printf("The seed's synchronous system call, on one P:\n");
  scenario();
  std::printf("\nThe seed's three figures, as gort::debug::snapshot() saw them (one P):\n");
  auto mo = syscall_moments::take();
  for (int i = 0; i < 3; ++i) {
    syscall_moments::print(mo.snap[i], syscall_moments::caption(i));
    if (!dot_dir.empty()) {
      std::string name = "syscall_" + std::to_string(i + 1);
      std::ofstream f(dot_dir + "/" + name + ".dot");
      syscall_moments::write_dot(f, mo.snap[i], name, syscall_moments::caption(i));
    }
  }
  figures();
}
