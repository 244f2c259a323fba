// Tests of the grading harness itself (run by `make test` through
// `gradelib.py selftest`): one test per outcome the harness must tell apart.
// None of these is graded for students; they exist so that a broken harness
// (a hang that kills every later test, a crash reported as a pass) is caught.
#include <csignal>
#include <stdexcept>
#include <thread>

#include "gort_grader.hpp"

GRADED_TEST("selftest passes", 3, "pass") { CHECK(1 + 1 == 2); }

GRADED_TEST("selftest fails an assertion", 5, "fail") {
  int answer = 41;
  CHECK_MESSAGE(answer == 42, "the answer is off by one");
}

GRADED_TEST("selftest crashes", 7, "crash") { std::raise(SIGSEGV); }

GRADED_TEST("selftest hangs", 11, "hang") {
  for (;;) std::this_thread::yield();
}

GRADED_TEST("selftest throws", 13, "throw") { throw std::runtime_error("boom"); }

GRADED_TEST("selftest passes after the others", 17, "pass") { CHECK(true); }
