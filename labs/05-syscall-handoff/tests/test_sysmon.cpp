// Lab 05 grader — sysmon (tasks 4-5): a goroutine in a call is visible as
// such and is no deadlock, sysmon sleeps when the program idles, and a
// goroutine that keeps its P through runtime calls is asked to yield.
// The idle test measures a resource (sysmon's rounds, the CPU time of the
// process) over an idle stretch, with bounds far from both the right
// answer and the wrong ones; nothing here waits on the clock to synchronise.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab05_util.hpp"
#include "rt/hooks.hpp"

using namespace std::chrono_literals;

namespace {

char read_byte(int fd) {
  char c = '?';
  return ::read(fd, &c, 1) == 1 ? c : '?';
}

std::int64_t cpu_ns_of_process() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_usec * 1000;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

}  // namespace

GRADED_TEST("sysmon: a goroutine in a call shows as syscall and is no deadlock", 6,
            "Task 2: the slow path parks the M for reuse") {
  lab05::Pipe pipe;
  std::atomic<bool> seen{false};
  std::atomic<int> in_progress{-1};
  std::atomic<bool> stop{false};
  // A plain thread asks the runtime (snapshot) whether main is in its call,
  // then writes; it gives up after 5 s (then the test fails).
  std::thread writer([&] {
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!stop && std::chrono::steady_clock::now() < until) {
      gort::debug::Snapshot s = gort::debug::snapshot();
      for (const auto& g : s.goroutines) {
        if (g.id == 1 && g.status == gort::GStatus::syscall) seen = true;
      }
      if (seen) {
        in_progress = gort::rt::syscalls_in_progress();
        break;
      }
      std::this_thread::yield();
    }
    pipe.put('x');
  });
  char got = 0;
  gort::run([&] { got = gort::syscall(read_byte, pipe.r); }, {.procs = 1});
  stop = true;
  writer.join();
  CHECK_MESSAGE(seen.load(),
                "debug::snapshot() never showed goroutine 1 in status syscall "
                "while it was blocked in gort::syscall(read)");
  CHECK_MESSAGE(in_progress.load() == 1, "syscalls_in_progress() was ", in_progress.load(),
                " while one goroutine was inside its call");
  CHECK(got == 'x');
}

GRADED_TEST("sysmon: it retakes while work waits and sleeps when the program idles", 10,
            "Task 5: sysmon's rounds") {
  lab05::Pipe pipe;
  lab05::Watchdog dog(5s, [&] { pipe.put('!'); });
  gort::debug::Stats busy, idle_start, idle_end;
  std::int64_t cpu = 0, wall = 0;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&] {
          gort::syscall(read_byte, pipe.r);
          wg.done();
        });
        gort::yield();  // the reader blocks holding the only P: main needs a retake
        if (!dog.fired()) pipe.put('x');
        wg.wait();
        busy = gort::debug::stats();
        // Idle: every P idle for 300 ms. sysmon must go to its deep sleep.
        idle_start = gort::debug::stats();
        std::int64_t c0 = cpu_ns_of_process();
        auto t0 = std::chrono::steady_clock::now();
        gort::sleep_for(300ms);
        wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count();
        cpu = cpu_ns_of_process() - c0;
        idle_end = gort::debug::stats();
      },
      {.procs = 1});
  dog.disarm();
  REQUIRE_MESSAGE(!dog.fired(),
                  "the blocked reader's P was never retaken (sysmon must run its "
                  "rounds while a P is in a call)");
  CHECK_MESSAGE(busy.retakes >= 1, "Stats::retakes is ", busy.retakes);
  std::uint64_t rounds = idle_end.sysmon_rounds - idle_start.sysmon_rounds;
  CHECK_MESSAGE(rounds <= 100, "sysmon ran ", rounds, " rounds during 300 ms with every P idle: ",
                "it must back off (20 us doubling to 10 ms after 50 idle rounds) and sleep "
                "deeply (kSysmonDeepSleep) while every P is idle");
  CHECK_MESSAGE(cpu * 4 <= wall, "the process used ", cpu / 1000, " us of CPU in ", wall / 1000,
                " us of idling");
}

GRADED_TEST("sysmon: a goroutine spinning through runtime calls does not starve the others", 12,
            "Task 5: sysmon's rounds") {
  std::atomic<bool> other_ran{false};
  bool gave_up = false;
  std::uint64_t spins = 0;
  gort::debug::Stats st;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(2);
        gort::go([&] {  // queued behind the spinner on the only P
          other_ran = true;
          wg.done();
        });
        gort::go([&] {  // runs first (runnext); never blocks, never yields
          gort::Chan<int> c(1);
          gort::WaitGroup none;  // counter 0: wait() returns at once
          auto give_up = std::chrono::steady_clock::now() + 5s;
          while (!other_ran.load()) {
            c.send(1);
            c.recv();
            none.wait();
            if ((++spins & 1023) == 0 && std::chrono::steady_clock::now() > give_up) {
              gave_up = true;
              break;
            }
          }
          wg.done();
        });
        wg.wait();
        st = gort::debug::stats();
      },
      {.procs = 1});
  CHECK_MESSAGE(!gave_up,
                "a goroutine doing channel operations that never block kept the only "
                "P for 5 s while another waited: sysmon must request_preempt a P "
                "whose goroutine has run for 10 ms (the channel operation is the "
                "scheduling point that honours it)");
  CHECK(other_ran.load());
  CHECK_MESSAGE(st.preemptions >= 1, "Stats::preemptions is ", st.preemptions);
}
