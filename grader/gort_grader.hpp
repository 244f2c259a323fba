// The grading vocabulary every lab's tests use.
//
// A graded test is a doctest TEST_CASE that also records how many points it
// is worth and which handout section explains what it checks:
//
//     GRADED_TEST("note: a wake-up posted before the sleep is kept", 10, "Task 2") {
//       ...doctest assertions...
//     }
//
// The grader executable (grader_main.cpp) prints every test's points as
// JSON when run with --gort-manifest; grader/gradelib.py runs each test in
// its own process with a time limit and turns the outcomes into a score.
// Test names must not contain doctest's filter characters  , * ? [ ]  so a
// name given to --test-case selects exactly that test.
#pragma once

#include <doctest/doctest.h>

namespace gort::grader {

/// Metadata of one graded test, registered before main() runs.
struct GradedTest {
  const char* name;     ///< the doctest test case name
  int points;           ///< points awarded when it passes
  const char* section;  ///< handout section a student should read if it fails
  const char* lab;      ///< two-digit lab number
  const char* handout;  ///< path of the lab's handout
};

/// Adds @p t to the manifest; called by GRADED_TEST's static registrar.
/// Returns a dummy value so it can initialise a namespace-scope constant.
int register_graded_test(const GradedTest& t);

}  // namespace gort::grader

#ifndef GORT_TEST_LAB
#define GORT_TEST_LAB "00"
#define GORT_TEST_HANDOUT "README.md"
#endif

#define GORT_GRADER_CAT2(a, b) a##b
#define GORT_GRADER_CAT(a, b) GORT_GRADER_CAT2(a, b)

/// Declares a graded doctest case worth @p points, explained in handout @p section.
#define GRADED_TEST(name, points, section)                                       \
  [[maybe_unused]] static const int GORT_GRADER_CAT(gort_graded_, __COUNTER__) = \
      ::gort::grader::register_graded_test(                                      \
          {name, points, section, GORT_TEST_LAB, GORT_TEST_HANDOUT});            \
  TEST_CASE(name)
