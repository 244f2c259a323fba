// main() of every grader executable: doctest, plus two things graders need.
//
//  * `--gort-manifest` prints the graded tests (name, points, handout section)
//    as JSON, so grader/gradelib.py knows what each test is worth.
//  * SIGQUIT prints evidence before a hung test is killed: gradelib sends it
//    when a test hits its time limit, then SIGKILL a moment later. A runtime
//    lab may define gort_grader_dump_state() (weak here) to list its
//    goroutines, Ps and Ms; without one only the hang itself is reported.
#define DOCTEST_CONFIG_IMPLEMENT
#include "gort_grader.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" __attribute__((weak)) void gort_grader_dump_state(int fd);

namespace gort::grader {
namespace {
std::vector<GradedTest>& registry() {
  static std::vector<GradedTest> tests;
  return tests;
}

std::string json_string(const char* s) {
  std::string out = "\"";
  for (const char* p = s; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void print_manifest() {
  std::printf("[\n");
  const auto& tests = registry();
  for (std::size_t i = 0; i < tests.size(); ++i) {
    const auto& t = tests[i];
    std::printf(
        "  {\"name\": %s, \"points\": %d, \"section\": %s, \"lab\": %s, \"handout\": %s}%s\n",
        json_string(t.name).c_str(), t.points, json_string(t.section).c_str(),
        json_string(t.lab).c_str(), json_string(t.handout).c_str(),
        i + 1 < tests.size() ? "," : "");
  }
  std::printf("]\n");
}

void write_str(const char* s) {
  ssize_t r = ::write(2, s, std::strlen(s));
  (void)r;
}

void on_sigquit(int) {
  write_str("\n=== HANG: the time limit was hit; state at that moment ===\n");
  if (gort_grader_dump_state) {
    gort_grader_dump_state(2);
  } else {
    write_str("(this lab has no runtime state to dump)\n");
  }
  write_str("=== end of hang evidence ===\n");
  _exit(124);
}
}  // namespace

int register_graded_test(const GradedTest& t) {
  for (const char* p = t.name; *p; ++p) {
    if (std::strchr(",*?[]", *p)) {
      std::fprintf(stderr, "grader bug: test name \"%s\" contains '%c'\n", t.name, *p);
      std::abort();
    }
  }
  registry().push_back(t);
  return 0;
}
}  // namespace gort::grader

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gort-manifest") == 0) {
      gort::grader::print_manifest();
      return 0;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = gort::grader::on_sigquit;
  sa.sa_flags = SA_ONSTACK;  // on the thread's alternate stack, not a goroutine's small one
  sigemptyset(&sa.sa_mask);
  sigaction(SIGQUIT, &sa, nullptr);

  doctest::Context ctx;
  ctx.setOption("no-version", true);
  ctx.applyCommandLine(argc, argv);
  return ctx.run();
}
