// Tests of seeing the scheduler (issue 11, runtime/rt/trace.cpp): the
// execution trace (validated by scripts/trace_check.py: the trace-event
// format Perfetto reads, and the scheduler's invariants replayed from it),
// Go's schedtrace format, and the scheduling decisions counted by cause.
// Exact counts and queue lengths are checked on one P, where the order is
// fixed; on several Ps only what must hold in every interleaving.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "child.hpp"
#include "gort/gort.hpp"
#include "rt/trace.hpp"

namespace {

using gort_test::in_child;

/// A workload touching every kind of event: go, channel ping-pong (park and
/// ready), yield, sleep (timers), Mutex, WaitGroup, exit. Returns the number
/// of goroutines it created (main included).
int workload(int pairs) {
  gort::WaitGroup wg;
  gort::Mutex mu;
  long shared = 0;
  wg.add(2 * pairs);
  for (int i = 0; i < pairs; ++i) {
    gort::Chan<int> ping, pong;
    gort::go([&, ping, pong] {
      for (int k = 0; k < 20; ++k) {
        ping.send(k);
        (void)pong.recv();
        if (k % 5 == 0) gort::yield();
      }
      gort::sleep_for(std::chrono::microseconds(200));
      std::lock_guard<gort::Mutex> lk(mu);
      ++shared;
      wg.done();
    });
    gort::go([&, ping, pong] {
      for (int k = 0; k < 20; ++k) {
        int v = *ping.recv();
        pong.send(v);
      }
      std::lock_guard<gort::Mutex> lk(mu);
      ++shared;
      wg.done();
    });
  }
  wg.wait();
  REQUIRE(shared == 2 * pairs);
  return 1 + 2 * pairs;
}

std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/gort_trace_" + std::to_string(::getpid()) +
         "_" + name;
}

/// Runs scripts/trace_check.py on @p path; returns its exit status and output.
int check_trace(const std::string& path, int goroutines, std::string* output) {
  std::string cmd = "python3 " GORT_SOURCE_DIR "/scripts/trace_check.py '" + path +
                    "' --goroutines " + std::to_string(goroutines) + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) output->append(buf, n);
  int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("trace: a traced run on 4 Ps is valid trace-event JSON that keeps the invariants") {
  std::string path = temp_path("4p.json");
  int created = 0;
  gort::run([&] { created = workload(8); }, {.procs = 4, .trace = path.c_str()});
  REQUIRE(created == 17);
  std::string out;
  int rc = check_trace(path, created, &out);
  INFO(out);
  CHECK(rc == 0);
  std::string json = slurp(path);
  // Every kind of event the workload causes is there.
  for (const char* needle :
       {"\"cat\":\"run\"", "\"name\":\"go G", "\"cat\":\"park\"", "chan receive",
        "\"cat\":\"yield\"", "timer: ready", "\"cat\":\"exit\"", "\"flow_in\":true",
        "\"flow_out\":true", "\"name\":\"M0\"", "\"name\":\"P3\"", "\"name\":\"G1\""}) {
    INFO(std::string(needle));
    CHECK(json.find(needle) != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("trace: one P — every G's lifetime in order, and no trace when off") {
  std::string path = temp_path("1p.json");
  gort::run([] { workload(2); }, {.procs = 1, .trace = path.c_str()});
  std::string out;
  int rc = check_trace(path, 5, &out);
  INFO(out);
  CHECK(rc == 0);
  std::remove(path.c_str());
  CHECK_FALSE(gort::rt::trace::enabled.load());
  // Not traced: nothing is written, the flag stays off inside the run.
  bool seen_on = true;
  gort::run([&] { seen_on = gort::rt::trace::enabled.load(); }, {.procs = 1});
  CHECK_FALSE(seen_on);
}

TEST_CASE("trace: a trace file that cannot be opened is refused at boot, naming it") {
  bool ran = false;
  try {
    gort::run([&] { ran = true; }, {.procs = 1, .trace = "/nonexistent-dir/t.json"});
    FAIL("run accepted an unwritable trace path");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent-dir/t.json") != std::string::npos);
  }
  CHECK_FALSE(ran);
  gort::run([&] { ran = true; }, {.procs = 1});  // the runtime is usable afterwards
  CHECK(ran);
}

TEST_CASE("trace: GORT_TRACE names the file; later runs of the process get .2, .3") {
  auto c = in_child([] {
    std::string path = temp_path("env.json");
    ::setenv("GORT_TRACE", path.c_str(), 1);
    gort::run([] { gort::go([] {}); }, {.procs = 2});
    gort::run([] {}, {.procs = 1});
    std::string second = temp_path("env.2.json");
    bool ok = !slurp(path).empty() && slurp(second).find("traceEvents") != std::string::npos;
    std::remove(path.c_str());
    std::remove(second.c_str());
    ::_exit(ok ? 0 : 1);
  });
  INFO(c.err);
  CHECK(c.code == 0);
  CHECK(c.err.find("gort: trace written to") != std::string::npos);
}

TEST_CASE("trace: a run that ends in the deadlock report still writes its trace") {
  std::string path = temp_path("deadlock.json");
  auto c = in_child([&] {
    ::setenv("GORT_TRACE", path.c_str(), 1);
    gort::run(
        [] {
          gort::Chan<int> never;
          gort::go([never] { (void)never.recv(); });
          (void)never.recv();  // nobody sends: "all goroutines are asleep"
        },
        {.procs = 2});
  });
  CHECK(c.code == 2);
  CHECK(c.err.find("all goroutines are asleep") != std::string::npos);
  std::string out;
  int rc = check_trace(path, 2, &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(slurp(path).find("park G1: chan receive") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("schedtrace: the line has Go's format, with exact counts on one P") {
  std::string line, detail;
  gort::run(
      [&] {
        // On one P: the first go() goes to runnext, each later one pushes the
        // previous runnext to the ring — three goroutines leave two in the ring.
        for (int i = 0; i < 3; ++i) gort::go([] {});
        int p[2];
        REQUIRE(::pipe(p) == 0);
        gort::rt::trace::schedtrace(p[1], false);
        gort::rt::trace::schedtrace(p[1], true);
        ::close(p[1]);
        char buf[8192];
        std::string all;
        for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) all.append(buf, std::size_t(n));
        ::close(p[0]);
        std::size_t nl = all.find('\n');
        line = all.substr(0, nl + 1);
        detail = all.substr(nl + 1);
      },
      {.procs = 1});
  INFO(line);
  CHECK(std::regex_match(line, std::regex("SCHED [0-9]+ms: gomaxprocs=1 idleprocs=0 threads=1 "
                                          "spinningthreads=0 needspinning=0 idlethreads=0 "
                                          "runqueue=0 \\[2\\]\n")));
  INFO(detail);
  std::regex head(
      "SCHED [0-9]+ms: gomaxprocs=1 idleprocs=0 threads=1 spinningthreads=0 needspinning=0 "
      "idlethreads=0 runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0\n"
      "  P0: status=1 schedtick=[0-9]+ syscalltick=0 m=0 runqsize=2 gfreecnt=0 timerslen=0\n"
      "  M0: p=0 curg=1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false "
      "blocked=false lockedg=-1\n"
      "  G1: status=2\\(\\) m=0 lockedm=-1\n"
      "  G2: status=1\\(\\) m=-1 lockedm=-1\n"
      "  G3: status=1\\(\\) m=-1 lockedm=-1\n"
      "  G4: status=1\\(\\) m=-1 lockedm=-1\n");
  CHECK(std::regex_match(detail, head));
}

TEST_CASE("schedtrace: GORT_SCHEDTRACE=ms prints the line every interval; bad values refused") {
  auto c = in_child([] {
    ::setenv("GORT_SCHEDTRACE", "1", 1);
    gort::run(
        [] {
          // Wait for two reports, however slow the machine (the child's alarm bounds it).
          std::uint64_t start = gort::rt::trace::schedtrace_reports.load();
          while (gort::rt::trace::schedtrace_reports.load() < start + 2) {
            gort::sleep_for(std::chrono::milliseconds(1));
          }
        },
        {.procs = 2});
  });
  CHECK(c.code == 0);
  std::regex line(
      "SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ spinningthreads=[0-9]+ "
      "needspinning=0 idlethreads=[0-9]+ runqueue=[0-9]+ \\[[0-9]+ [0-9]+\\]");
  std::istringstream in(c.err);
  int lines = 0;
  for (std::string l; std::getline(in, l);) {
    INFO(l);
    CHECK(std::regex_match(l, line));
    ++lines;
  }
  CHECK(lines >= 2);

  auto bad = in_child([] {
    ::setenv("GORT_SCHEDTRACE", "soon", 1);
    try {
      gort::run([] {}, {.procs = 1});
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "%s\n", e.what());
      ::_exit(7);
    }
  });
  CHECK(bad.code == 7);
  CHECK(bad.err.find("GORT_SCHEDTRACE must be a number") != std::string::npos);
}

TEST_CASE("stats: scheduling decisions counted by cause, exactly on one P") {
  gort::run(
      [] {
        gort::Chan<int> c;
        gort::go([c] { c.send(1); });  // go: 1
        (void)c.recv();                // main parks (sync: 1); G2 sends, exits (exit: 1)
        for (int i = 0; i < 3; ++i) gort::yield();        // yield: 3
        gort::sleep_for(std::chrono::microseconds(100));  // sleep: 1
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&] { wg.done(); });  // go: 2, exit: 2
        wg.wait();                     // sync: 2
      },
      {.procs = 1});
  gort::debug::Stats s = gort::debug::stats();
  CHECK(s.sched_go == 2);
  CHECK(s.sched_sync == 2);
  CHECK(s.sched_sleep == 1);
  CHECK(s.sched_yield == 3);
  CHECK(s.sched_io == 0);
  CHECK(s.sched_syscall == 0);
  CHECK(s.sched_preempt == 0);
  CHECK(s.sched_exit == 3);  // the two goroutines and main
}

namespace {

/// The order in which 8 goroutines, each yielding 5 times, get the P (one P).
std::vector<int> yield_order() {
  std::vector<int> order;
  gort::run(
      [&] {
        gort::WaitGroup wg;
        wg.add(8);
        for (int g = 0; g < 8; ++g) {
          gort::go([&, g] {
            for (int k = 0; k < 6; ++k) {
              order.push_back(g);
              if (k < 5) gort::yield();
            }
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 1});
  return order;
}

}  // namespace

TEST_CASE("GORT_SEED: the same seed on one P repeats its perturbed schedule; nothing is lost") {
  std::vector<int> plain = yield_order();
  ::setenv("GORT_SEED", "5", 1);
  std::vector<int> five = yield_order();
  std::vector<int> five_again = yield_order();
  ::setenv("GORT_SEED", "6", 1);
  std::vector<int> six = yield_order();
  ::setenv("GORT_SEED", "many", 1);
  CHECK_THROWS_AS(gort::run([] {}, {.procs = 1}), std::invalid_argument);
  ::unsetenv("GORT_SEED");
  CHECK(five == five_again);
  CHECK(five != plain);
  CHECK(six != five);
  for (const auto* o : {&plain, &five, &six}) {
    REQUIRE(o->size() == 48);
    for (int g = 0; g < 8; ++g) CHECK(std::count(o->begin(), o->end(), g) == 6);
  }
  CHECK(yield_order() == plain);  // unseeded runs are not perturbed
}
