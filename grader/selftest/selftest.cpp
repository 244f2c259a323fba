// Tests of the grading harness itself (run by `make test` through
// `gradelib.py selftest`): one test per outcome the harness must tell apart,
// and one per trick a dishonest submission might try. None of these is graded
// for students; they exist so that a broken harness (a hang that kills every
// later test, a crash reported as a pass, a printed "1 passed" believed) is
// caught. gradelib.py's cmd_selftest says what each one must produce.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

#include "gort_grader.hpp"

namespace {
// What a cheater prints: doctest's own summary of a passing run.
void print_fake_pass() {
  std::printf(
      "[doctest] test cases: 1 | 1 passed | 0 failed | 0 skipped\n"
      "[doctest] assertions: 1 | 1 passed | 0 failed |\n"
      "[doctest] Status: SUCCESS!\n");
  std::fflush(stdout);
}

std::string read_all(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The static-constructor trick: before main() runs, look at the command line
// and, for the one test this trick targets, claim a pass and leave (or, asked
// for the list of tests, print a shorter one).
struct ForgeBeforeMain {
  ForgeBeforeMain() {
    std::string cmdline = read_all("/proc/self/cmdline");
    // A manifest that lists only a passing test, so every failing one would
    // go unscored.
    if (std::getenv("GORT_SELFTEST_FORGE_MANIFEST") &&
        cmdline.find("--gort-manifest") != std::string::npos) {
      std::printf(
          "[\n  {\"name\": \"selftest passes\", \"points\": 3, \"section\": \"pass\", "
          "\"lab\": \"00\", \"handout\": \"grader/selftest\"}\n]\n");
      std::fflush(stdout);
      _exit(0);
    }
    if (cmdline.find("--test-case=selftest forges a pass from a static constructor") !=
        std::string::npos) {
      print_fake_pass();
      _exit(0);
    }
  }
} forge_before_main;

void forge_at_exit() {
  print_fake_pass();
  _exit(0);
}
}  // namespace

GRADED_TEST("selftest passes", 3, "pass") { CHECK(1 + 1 == 2); }

GRADED_TEST("selftest fails an assertion", 5, "fail") {
  int answer = 41;
  CHECK_MESSAGE(answer == 42, "the answer is off by one");
}

GRADED_TEST("selftest crashes", 7, "crash") {
  // A real fault at a known address (not raise()), so si_addr is checked.
  volatile std::uintptr_t where = 0x10;
  *reinterpret_cast<volatile int*>(where) = 1;
}

// Named (not inlined) so the hang evidence can be checked for both threads.
__attribute__((noinline)) void hang_helper_waits(std::future<void> never) { never.wait(); }
__attribute__((noinline)) void hang_main_spins() {
  for (;;) std::this_thread::yield();
}

GRADED_TEST("selftest hangs", 11, "hang") {
  std::promise<void> never;
  std::thread helper(hang_helper_waits, never.get_future());
  hang_main_spins();
  helper.join();
}

GRADED_TEST("selftest throws", 13, "throw") { throw std::runtime_error("boom"); }

GRADED_TEST("selftest passes after the others", 17, "pass") { CHECK(true); }

GRADED_TEST("selftest logs several lines", 1, "logged") {
  int round = 3;
  INFO("first logged line");
  INFO("second logged line");
  CAPTURE(round);
  CHECK(round == 4);
}

GRADED_TEST("selftest reports a deadlock", 1, "deadlock") {
  // What the runtime prints when every goroutine is blocked, then exit(2).
  std::fprintf(stderr,
               "fatal error: all goroutines are asleep - deadlock!\n\n"
               "goroutine 1 [chan receive]:\n"
               "goroutine 7 [WaitGroup.wait]:\n");
  std::exit(2);
}

GRADED_TEST("selftest reports a sanitizer error", 1, "sanitizer") {
  // The shape of a ThreadSanitizer report with halt_on_error=1 exitcode=66.
  std::fprintf(stderr,
               "==================\n"
               "WARNING: ThreadSanitizer: data race (pid=1)\n"
               "  Write of size 4 at 0x7b0400000000 by thread T1:\n"
               "    #0 racy_increment selftest.cpp:1\n");
  _exit(66);
}

GRADED_TEST("selftest forges a pass by printing and exiting", 1, "forged") {
  print_fake_pass();
  _exit(0);
}

GRADED_TEST("selftest forges a pass from a static constructor", 1, "forged") {
  CHECK_MESSAGE(false, "unreachable: the static constructor exits first");
}

GRADED_TEST("selftest forges a pass from an atexit handler", 1, "forged") {
  std::atexit(forge_at_exit);
  CHECK_MESSAGE(false, "the test fails; the atexit handler then claims a pass");
}

GRADED_TEST("selftest forges a result report", 1, "forged") {
  // An attacker who knows the protocol but not the secret: the channel's fds
  // are still in /proc/self/environ (the initial environment) even though
  // main() removed the variable; write a made-up result there and leave.
  std::string env = read_all("/proc/self/environ");
  auto at = env.find("GORT_GRADER_CHANNEL=");
  REQUIRE(at != std::string::npos);
  int rfd = -1, wfd = -1;
  REQUIRE(std::sscanf(env.c_str() + at, "GORT_GRADER_CHANNEL=%d:%d", &rfd, &wfd) == 2);
  std::string line = "result 00000000000000000000000000000000 " + std::to_string(getpid()) +
                     " 0 1 0 1 0 selftest forges a result report\n";
  ssize_t w = ::write(wfd, line.data(), line.size());
  (void)w;
  print_fake_pass();
  _exit(0);
}

GRADED_TEST("selftest plants results.json", 2, "planted") {
  // Honest test, dishonest side effect: write a perfect score where the
  // harness will write its report. The harness must replace it.
  const char* out = std::getenv("GORT_SELFTEST_OUT");
  REQUIRE(out != nullptr);
  std::string path = std::string(out) + "/results.json";
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fputs("{\"score\": 999, \"max_score\": 999, \"tests\": []}\n", f);
  std::fclose(f);
  CHECK(true);
}

GRADED_TEST("selftest leaves a process behind", 1, "leftover") {
  // A daemon that escapes the test's process group and rewrites results.json
  // once the harness has written it. The harness must kill it first.
  const char* out = std::getenv("GORT_SELFTEST_OUT");
  REQUIRE(out != nullptr);
  std::string path = std::string(out) + "/results.json";
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    ssize_t w = ::write(ready[1], "x", 1);  // the daemon exists: the test may end
    (void)w;
    struct stat before {};
    ::stat(path.c_str(), &before);
    for (int i = 0; i < 60000; ++i) {  // an attacker polls; it is not a test
      struct stat now {};
      if (::stat(path.c_str(), &now) == 0 && now.st_ino != before.st_ino) {
        std::FILE* f = std::fopen(path.c_str(), "w");
        if (f) std::fputs("{\"score\": 999, \"max_score\": 999, \"tests\": []}\n", f);
        _exit(0);
      }
      usleep(1000);
    }
    _exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  CHECK(true);
}

GRADED_TEST("selftest kills the harness", 1, "killer") {
  // Run only under a nested `gradelib.py grade` by the self-test: the process
  // running the tests dies, and the grade must fail loudly.
  kill(getppid(), SIGKILL);
  print_fake_pass();
  _exit(0);
}
