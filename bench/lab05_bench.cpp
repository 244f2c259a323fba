// Lab 05 benchmark: blocking system calls, gort vs Go side by side in one
// run (Go's side: bench/go/syscall/syscall.go).
//
//   lab05_bench            the driver: runs `lab05_bench gort` and the Go
//                          program BENCH_REPS times (default 3), alternating,
//                          and prints each figure's median and the ratio
//   lab05_bench gort       one measurement, `figure value unit` lines
//
// Figures (one P each, so the hand-off is the only way forward):
//   overhead_ns     gort::syscall(getppid) minus a bare getppid per call
//                   (Go: syscall.Syscall minus RawSyscall), best of 5 runs
//   handoff_p50_us  from a goroutine entering a blocking read(2) on a pipe
//   handoff_p99_us  until the goroutine queued behind it starts on another
//                   thread: sysmon's retake (20 us - 10 ms rounds) plus a
//                   thread wake-up; 300 rounds
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gort/gort.hpp>

#ifndef GORT_BENCH_GO_SYSCALL
#define GORT_BENCH_GO_SYSCALL "-"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double per_call(int n, void (*f)()) {
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) f();
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
}

int measure_gort() {
  return gort::run(
      [] {
        constexpr int kN = 200000;
        double bare = 1e18, wrapped = 1e18;
        for (int r = 0; r < 5; ++r) {
          bare = std::min(bare, per_call(kN, [] { (void)::getppid(); }));
          wrapped = std::min(wrapped, per_call(kN, [] { (void)gort::syscall(::getppid); }));
        }
        std::printf("bare_ns %.1f ns\n", bare);
        std::printf("overhead_ns %.1f ns\n", wrapped - bare);

        constexpr int kRounds = 300;
        std::vector<double> lat;
        for (int i = 0; i < kRounds; ++i) {
          int p[2];
          if (::pipe(p) != 0) return 1;
          Clock::time_point t0, t1;
          gort::WaitGroup wg;
          wg.add(2);
          gort::go([&] {  // B: queued behind A
            t1 = Clock::now();
            if (::write(p[1], "x", 1) != 1) std::abort();
            wg.done();
          });
          gort::go([&] {  // A: runs first (runnext) and blocks
            char b;
            t0 = Clock::now();
            gort::syscall(::read, p[0], &b, 1);
            wg.done();
          });
          wg.wait();
          ::close(p[0]);
          ::close(p[1]);
          lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
        std::sort(lat.begin(), lat.end());
        std::printf("handoff_p50_us %.1f us\n", lat[lat.size() / 2]);
        std::printf("handoff_p99_us %.1f us\n", lat[lat.size() * 99 / 100]);
        return 0;
      },
      {.procs = 1});
}

/// Runs @p argv, returns its `figure value` lines.
std::map<std::string, double> run_program(std::vector<std::string> argv) {
  int p[2];
  if (::pipe(p) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::close(p[0]);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  std::map<std::string, double> r;
  char name[64];
  double v;
  for (const char* s = out.c_str(); *s;) {
    if (std::sscanf(s, "%63s %lf", name, &v) == 2) r[name] = v;
    const char* nl = std::strchr(s, '\n');
    if (!nl) break;
    s = nl + 1;
  }
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "gort") == 0) return measure_gort();
  int reps = std::getenv("BENCH_REPS") ? std::atoi(std::getenv("BENCH_REPS")) : 3;
  std::string self = "/proc/self/exe";
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) self.assign(exe, std::size_t(n));
  std::string go = GORT_BENCH_GO_SYSCALL;
  bool have_go = go != "-" && ::access(go.c_str(), X_OK) == 0;
  std::map<std::string, std::vector<double>> g, o;
  for (int r = 0; r < reps; ++r) {
    for (auto& [k, v] : run_program({self, "gort"})) g[k].push_back(v);
    if (have_go) {
      for (auto& [k, v] : run_program({go})) o[k].push_back(v);
    }
  }
  std::printf("lab05_bench: blocking system calls, 1 P, medians of %d runs%s\n", reps,
              have_go ? "" : " (Go not found: gort alone)");
  std::printf("%-16s %12s %12s %8s\n", "figure", "gort", "Go", "gort/Go");
  for (const char* f : {"bare_ns", "overhead_ns", "handoff_p50_us", "handoff_p99_us"}) {
    double a = median(g[f]);
    if (have_go) {
      double b = median(o[f]);
      std::printf("%-16s %12.1f %12.1f %8.2f\n", f, a, b, b != 0 ? a / b : 0.0);
    } else {
      std::printf("%-16s %12.1f %12s %8s\n", f, a, "-", "-");
    }
  }
  for (const char* f : {"overhead_ns", "handoff_p50_us", "handoff_p99_us"}) {
    std::printf("gort_%s %.1f\n", f, median(g[f]));
  }
  return 0;
}
