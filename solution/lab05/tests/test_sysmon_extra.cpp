// Lab 05 extras (solution only): what the runtime says and does around
// system calls that the grader does not cover — the one-time diagnostic for a
// goroutine that never reaches a scheduling point, run() waiting for a call
// in progress, the thread-limit settings, sysmon's network poll while every
// P computes, and several runs in a row. These tests use time as the
// scenario (a goroutine that computes for 1.2 s), never to synchronise.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "child.hpp"
#include "gort/gort.hpp"
#include "gort/net.hpp"

using namespace std::chrono_literals;

namespace {

/// Spins on the CPU for @p d without any scheduling point.
void compute_for(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  volatile unsigned x = 0;
  while (std::chrono::steady_clock::now() < until) x = x + 1;
}

}  // namespace

TEST_CASE("a goroutine that runs 1 s without a scheduling point is named once") {
  auto c = gort_test::in_child([] {
    gort::run(
        [] {
          gort::WaitGroup wg;
          wg.add(2);
          gort::go([&] { wg.done(); });  // waits behind the spinner
          gort::go([&] {                 // runs first (runnext), never calls the runtime
            compute_for(1300ms);
            wg.done();
          });
          wg.wait();
        },
        {.procs = 1});
  });
  CHECK(c.code == 0);
  CHECK_MESSAGE(c.err.find("gort: goroutine 3 has run for") != std::string::npos, c.err);
  CHECK_MESSAGE(c.err.find("while 1 goroutines wait on that P") != std::string::npos, c.err);
  CHECK_MESSAGE(c.err.find("gort::yield()") != std::string::npos, c.err);
  CHECK_MESSAGE(c.err.find("has run for") == c.err.rfind("has run for"), "printed twice: ", c.err);
}

TEST_CASE("run() returns once a call in progress when main returned has returned") {
  auto c = gort_test::in_child([] {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
    std::atomic<bool> main_done{false};
    std::thread writer([&] {
      while (!main_done) std::this_thread::yield();
      std::this_thread::sleep_for(1200ms);  // the scenario: the call outlasts main by 1.2 s
      if (::write(p[1], "x", 1) != 1) std::abort();
    });
    bool resumed = false;
    gort::run(
        [&] {
          gort::go([&] {
            char b;
            gort::syscall(::read, p[0], &b, 1);
            resumed = true;  // must not run: main returned during the call
          });
          gort::yield();  // the reader enters its call
          main_done = true;
        },
        {.procs = 2});
    writer.join();
    if (resumed) std::_Exit(5);
  });
  CHECK_MESSAGE(c.code == 0, "exit code ", c.code, ": ", c.err);
  CHECK_MESSAGE(
      c.err.find("main returned while 1 goroutines are inside gort::syscall") != std::string::npos,
      c.err);
}

TEST_CASE("the thread limit: Config::max_threads and GORT_MAXTHREADS are checked") {
  CHECK_THROWS_AS(gort::run([] {}, {.max_threads = 1}), std::invalid_argument);
  CHECK_THROWS_AS(gort::run([] {}, {.max_threads = -3}), std::invalid_argument);
  ::setenv("GORT_MAXTHREADS", "many", 1);
  CHECK_THROWS_AS(gort::run([] {}), std::invalid_argument);
  ::unsetenv("GORT_MAXTHREADS");
  auto c = gort_test::in_child([] {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
    gort::run(
        [&] {
          gort::WaitGroup wg;
          wg.add(10);
          for (int i = 0; i < 10; ++i) {
            gort::go([&] {
              char b;
              gort::syscall_block(::read, p[0], &b, 1);
              wg.done();
            });
          }
          wg.wait();
        },
        {.procs = 2, .max_threads = 4});
  });
  CHECK(c.code == 2);
  CHECK_MESSAGE(c.err.find("runtime: program exceeds 4-thread limit") != std::string::npos, c.err);
  CHECK(gort::run([] { return 7; }) == 7);  // a failed check leaves nothing behind
}

TEST_CASE("sysmon polls the network while every P computes") {
  // One P, kept by a goroutine that computes through channel operations; a
  // reader waits on a socket that becomes readable. Without sysmon's poll
  // (and preemption) the reader would wait until the computation ends.
  bool reader_first = false;
  gort::run(
      [&] {
        auto ln = gort::net::listen("127.0.0.1:0");
        std::atomic<bool> read_done{false};
        gort::WaitGroup wg;
        wg.add(2);
        gort::go([&] {
          auto c = gort::net::dial("127.0.0.1:" + std::to_string(ln.port()));
          char b;
          c.read(&b, 1);
          read_done = true;
          wg.done();
        });
        auto s = ln.accept();
        s.write("x", 1);
        gort::go([&] {
          gort::Chan<int> ch(1);
          auto until = std::chrono::steady_clock::now() + 3s;
          while (!read_done && std::chrono::steady_clock::now() < until) {
            ch.send(1);
            ch.recv();
          }
          reader_first = read_done;
          wg.done();
        });
        wg.wait();
      },
      {.procs = 1});
  CHECK_MESSAGE(reader_first, "the reader waited for the 3 s computation to end");
}

TEST_CASE("several runs in a row each start and stop their sysmon") {
  for (int r = 0; r < 20; ++r) {
    std::uint64_t calls = 0;
    gort::run(
        [&] {
          for (int i = 0; i < 10; ++i) gort::syscall(::getpid);
          calls = gort::debug::stats().syscalls;
        },
        {.procs = 2});
    CHECK(calls == 10);  // counters start from zero with each run
  }
  // (A run this short may end before its sysmon's first round: nothing to check there.)
}
