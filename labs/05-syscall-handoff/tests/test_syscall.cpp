// Lab 05 grader — system calls (tasks 1-3): a blocked call lets the other
// goroutines of its P run, a short one keeps its P and its thread, threads
// are reused, results and errors pass through, the thread limit. No test
// sleeps to synchronise: "is the goroutine in its call?" is asked of the
// runtime (syscalls_in_progress, snapshot); a watchdog only turns a
// goroutine that stays blocked into a failure with a message.
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab05_util.hpp"
#include "rt/hooks.hpp"

using namespace std::chrono_literals;

namespace {

pid_t gettid_now() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

/// A blocking one-byte read from @p fd: the byte, or '?' on error.
char read_byte(int fd) {
  char c = '?';
  return ::read(fd, &c, 1) == 1 ? c : '?';
}

}  // namespace

GRADED_TEST("syscall: on one P a goroutine blocked in read lets the others run", 15,
            "Task 4: sysmon retakes the P") {
  lab05::Pipe pipe;
  lab05::Watchdog dog(5s, [&] { pipe.put('!'); });
  std::atomic<bool> reader_in{false};
  std::atomic<char> got{0};
  std::atomic<int> yields{0};
  bool reader_back_at_write = true;
  gort::debug::Stats st;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(2);
        gort::go([&] {
          reader_in = true;
          got = gort::syscall(read_byte, pipe.r);
          wg.done();
        });
        gort::go([&] {
          for (int i = 0; i < 100; ++i) {
            ++yields;
            gort::yield();
          }
          wg.done();
        });
        while (yields < 100) gort::yield();  // on one P: runs only if the P was handed on
        reader_back_at_write = got != 0;
        if (!dog.fired()) pipe.put('x');
        wg.wait();
        st = gort::debug::stats();
      },
      {.procs = 1});
  dog.disarm();
  CHECK_MESSAGE(!dog.fired(),
                "the reader blocked in read(2) kept its M and its only P: nothing else ran for "
                "5 s (sysmon must retake a P whose call lasts a full round and hand it to "
                "another M)");
  CHECK_MESSAGE(reader_in.load(), "the reader goroutine never ran");
  CHECK_MESSAGE(!reader_back_at_write,
                "the reader had returned before anything was written to the pipe");
  CHECK_MESSAGE(got.load() == 'x', "the reader got '", got.load(), "', expected 'x'");
  CHECK_MESSAGE(st.retakes >= 1, "Stats::retakes is ", st.retakes,
                ": the P should have been retaken from the blocked call");
  CHECK_MESSAGE(st.handoffs >= 1, "Stats::handoffs is ", st.handoffs, ", expected at least 1");
}

GRADED_TEST("syscall: syscall_block hands the P off at once and counts it", 8,
            "Task 3: handoffp and entersyscall_block") {
  lab05::Pipe pipe;
  lab05::Watchdog dog(5s, [&] { pipe.put('!'); });
  std::atomic<char> got{0};
  int yields = 0;
  gort::debug::Stats st;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&] {
          got = gort::syscall_block(read_byte, pipe.r);
          wg.done();
        });
        gort::yield();  // the reader enters its call and hands the P on
        while (yields < 50) {
          ++yields;
          gort::yield();
        }
        if (!dog.fired()) pipe.put('y');
        wg.wait();
        st = gort::debug::stats();
      },
      {.procs = 1});
  dog.disarm();
  CHECK_MESSAGE(!dog.fired(),
                "main never ran again while the reader was blocked in "
                "syscall_block: the P was not handed off");
  CHECK_MESSAGE(got.load() == 'y', "the reader got '", got.load(), "', expected 'y'");
  CHECK_MESSAGE(st.handoffs >= 1, "Stats::handoffs is ", st.handoffs,
                ": entersyscall_block must call handoffp, which counts");
  CHECK_MESSAGE(st.syscalls == 1, "Stats::syscalls is ", st.syscalls, ", expected 1");
  CHECK_MESSAGE(st.retakes == 0, "Stats::retakes is ", st.retakes,
                ": a P handed off at entry is never in status syscall, so sysmon has nothing "
                "to retake");
}

GRADED_TEST("syscall: a short call neither hands off nor makes a thread", 8,
            "Task 1: entersyscall and exitsyscall") {
  constexpr std::uint64_t kN = 1000;
  gort::debug::Stats before, after;
  std::uint64_t pid_errors = 0;
  gort::run(
      [&] {
        before = gort::debug::stats();
        for (std::uint64_t i = 0; i < kN; ++i) {
          if (gort::syscall(::getpid) != ::getpid()) ++pid_errors;
        }
        after = gort::debug::stats();
      },
      {.procs = 2});
  CHECK(pid_errors == 0);
  std::uint64_t counted = after.syscalls - before.syscalls;
  CHECK_MESSAGE(counted == kN, "Stats::syscalls counted ", counted, " calls, expected ", kN);
  std::uint64_t handoffs = after.handoffs - before.handoffs;
  CHECK_MESSAGE(handoffs <= kN / 10, handoffs, " hand-offs for ", kN,
                " getpid calls: a call that returns at once must keep its P (no hand-off at "
                "entry; sysmon retakes only a call that lasts a full round)");
  std::uint64_t made = after.threads - before.threads;
  CHECK_MESSAGE(made <= handoffs, made, " threads made for ", kN, " getpid calls with ", handoffs,
                " hand-offs");
}

GRADED_TEST("syscall: the exit fast path takes its own P back and is counted", 8,
            "Task 1: entersyscall and exitsyscall") {
  constexpr std::uint64_t kN = 1000;
  gort::debug::Stats before, after;
  std::uint64_t moved = 0;
  gort::run(
      [&] {
        before = gort::debug::stats();
        for (std::uint64_t i = 0; i < kN; ++i) {
          int p = gort::debug::current_p();
          pid_t t = gettid_now();
          gort::syscall(::getppid);
          if (gort::debug::current_p() != p || gettid_now() != t) ++moved;
        }
        after = gort::debug::stats();
      },
      {.procs = 2});
  std::uint64_t fast = after.syscall_fast_exits - before.syscall_fast_exits;
  CHECK_MESSAGE(fast >= kN * 9 / 10, "Stats::syscall_fast_exits counted ", fast, " of ", kN,
                " short calls: an exit whose P is still in status syscall must take it back "
                "with one CAS (and count it)");
  CHECK_MESSAGE(moved <= kN / 10, moved, " of ", kN,
                " short calls came back on another P or thread");
}

GRADED_TEST("syscall: results and exceptions pass through and the goroutine shows as in a call", 5,
            "Task 1: entersyscall and exitsyscall") {
  std::string dir = ::getenv("TMPDIR") ? ::getenv("TMPDIR") : "/tmp";
  std::string path = dir + "/gort_lab05_" + std::to_string(::getpid()) + ".txt";
  int sum = 0;
  std::string what, content;
  gort::GStatus inside = gort::GStatus::idle;
  bool usable_after = false;
  gort::debug::Stats st;
  gort::run(
      [&] {
        sum = gort::syscall([](int a, int b) { return a + b; }, 2, 3);
        try {
          gort::syscall([] { throw std::runtime_error("boom"); });
        } catch (const std::runtime_error& e) {
          what = e.what();
        }
        std::uint64_t me = gort::debug::goroutine_id();
        gort::syscall([&] {
          for (const auto& g : gort::debug::snapshot().goroutines) {
            if (g.id == me) inside = g.status;
          }
        });
        gort::write_file(path, "hello, file\n");
        content = gort::read_file(path);
        gort::Chan<int> c(1);  // the goroutine is a goroutine again after its calls
        c.send(7);
        usable_after = c.recv() == 7;
        st = gort::debug::stats();
      },
      {.procs = 1});
  ::unlink(path.c_str());
  CHECK(sum == 5);
  CHECK_MESSAGE(what == "boom", "the exception thrown inside gort::syscall came out as '", what,
                "'");
  CHECK(content == "hello, file\n");
  CHECK(usable_after);
  CHECK_MESSAGE(inside == gort::GStatus::syscall, "inside its call the goroutine's status was '",
                gort::to_string(inside),
                "', expected 'syscall' (entersyscall: running -> syscall)");
  CHECK_MESSAGE(st.syscalls >= 8, "Stats::syscalls is ", st.syscalls,
                " after at least 8 calls (3 direct, the file helpers' open/read/write)");
}

GRADED_TEST("syscall: 100 concurrent blocking calls all complete", 10,
            "Task 3: handoffp and entersyscall_block") {
  constexpr int kN = 100;
  std::vector<std::unique_ptr<lab05::Pipe>> pipes;
  for (int i = 0; i < kN; ++i) pipes.push_back(std::make_unique<lab05::Pipe>());
  lab05::Watchdog dog(5s, [&] {
    for (auto& p : pipes) p->put('!');
  });
  std::vector<char> got(kN, 0);
  int peak = 0;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(kN);
        for (int i = 0; i < kN; ++i) {
          gort::go([&, i] {
            got[i] = gort::syscall_block(read_byte, pipes[i]->r);
            wg.done();
          });
        }
        // Every reader gets into its call: each hands its P on, so main runs.
        while (gort::rt::syscalls_in_progress() < kN && !dog.fired()) gort::yield();
        peak = gort::rt::syscalls_in_progress();
        if (!dog.fired()) {
          for (int i = 0; i < kN; ++i) pipes[i]->put(static_cast<char>('a' + i % 26));
        }
        wg.wait();
      },
      {.procs = 2});
  dog.disarm();
  CHECK_MESSAGE(!dog.fired(),
                "100 goroutines blocked in syscall_block never were all inside "
                "their calls at once (syscalls_in_progress never reached 100)");
  CHECK(peak == kN);
  int wrong = 0;
  for (int i = 0; i < kN; ++i) wrong += got[i] != static_cast<char>('a' + i % 26);
  CHECK_MESSAGE(wrong == 0, wrong, " of ", kN, " readers got the wrong byte");
}

GRADED_TEST("syscall: threads are reused across bursts of blocking calls", 10,
            "Task 2: the slow path parks the M for reuse") {
  constexpr int kN = 60, kBursts = 4;
  std::vector<std::uint64_t> threads;
  bool rescued = false;
  std::atomic<int> wrong{0};
  gort::run(
      [&] {
        for (int b = 0; b < kBursts; ++b) {
          std::vector<std::unique_ptr<lab05::Pipe>> pipes;
          for (int i = 0; i < kN; ++i) pipes.push_back(std::make_unique<lab05::Pipe>());
          lab05::Watchdog dog(5s, [&] {
            for (auto& p : pipes) p->put('!');
          });
          gort::WaitGroup wg;
          wg.add(kN);
          for (int i = 0; i < kN; ++i) {
            gort::go([&, i] {
              if (gort::syscall_block(read_byte, pipes[i]->r) != 'z') ++wrong;
              wg.done();
            });
          }
          while (gort::rt::syscalls_in_progress() < kN && !dog.fired()) gort::yield();
          if (!dog.fired()) {
            for (auto& p : pipes) p->put('z');
          }
          wg.wait();
          dog.disarm();
          rescued |= dog.fired();
          threads.push_back(gort::debug::stats().threads);
          if (rescued) break;
        }
      },
      {.procs = 2});
  REQUIRE_MESSAGE(!rescued, "the blocking calls never were all in progress at once");
  CHECK(wrong.load() == 0);
  CHECK_MESSAGE(threads[0] >= kN / 2, "only ", threads[0], " threads for ", kN,
                " concurrent blocking calls");
  CHECK_MESSAGE(threads.back() <= threads[0] + 8, "threads after each burst of ", kN,
                " blocking calls: ", threads[0], ", ", threads[1], ", ", threads[2], ", ",
                threads[3],
                " — an M whose goroutine finds no P on the way out must park on the idle-M "
                "list (stopm) so the next hand-off reuses it");
}

GRADED_TEST("syscall: misuse is refused with a clear error", 4,
            "Task 1: entersyscall and exitsyscall") {
  std::string outside, nested;
  try {
    gort::syscall(::getpid);
  } catch (const std::logic_error& e) {
    outside = e.what();
  }
  gort::run(
      [&] {
        try {
          gort::syscall([] { return gort::syscall(::getpid); });
        } catch (const std::logic_error& e) {
          nested = e.what();
        }
      },
      {.procs = 1});
  CHECK_MESSAGE(outside.find("outside gort::run") != std::string::npos,
                "gort::syscall on a plain thread said: '", outside, "'");
  CHECK_MESSAGE(nested.find("inside the function of another gort::syscall") != std::string::npos,
                "a gort::syscall nested in another's function said: '", nested,
                "' (the check reads the goroutine's status: syscall)");
}

GRADED_TEST("syscall: past the thread limit the program stops with a clear fatal error", 4,
            "Task 3: handoffp and entersyscall_block") {
  lab05::Child c = lab05::in_child(
      [] {
        ::setenv("GORT_MAXTHREADS", "6", 1);
        std::vector<std::unique_ptr<lab05::Pipe>> pipes;
        for (int i = 0; i < 20; ++i) pipes.push_back(std::make_unique<lab05::Pipe>());
        gort::run(
            [&] {
              gort::WaitGroup wg;
              wg.add(20);
              for (int i = 0; i < 20; ++i) {
                gort::go([&, i] {
                  gort::syscall_block(read_byte, pipes[i]->r);
                  wg.done();
                });
              }
              wg.wait();
            },
            {.procs = 1});
      },
      8);
  CHECK_MESSAGE(c.code == 2, "the child ended with ", c.code,
                " (expected exit code 2, a fatal error; -14 is our 8 s alarm: it hung)");
  CHECK_MESSAGE(c.err.find("fatal error: thread exhaustion") != std::string::npos,
                "stderr was: ", c.err.substr(0, 400));
  CHECK_MESSAGE(c.err.find("6-thread limit") != std::string::npos,
                "stderr was: ", c.err.substr(0, 400));
}
