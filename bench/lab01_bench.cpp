// lab01_bench — the OS-thread baselines that later labs beat.
//
// Prints one line `name value unit` per figure (medians of several
// repetitions, all from this run) and `#` lines for ratios:
//   thread_create_join        ns to create and join one empty gort::os::Thread
//   futex_pingpong_switch     ns per one-way switch between two threads
//                             bouncing two Notes, both pinned to one CPU
//   futex_pingpong_cross_cpu  the same, threads free to sit on two CPUs
//   thread_parked_rss_*       KiB of resident memory per thread parked on a
//                             Note (1000 threads), default vs 64 KiB stacks
//   thread_parked_vsz_*       KiB of address space reserved per parked thread
// Lab 02 compares its user-space switch with futex_pingpong_switch, and a
// parked goroutine's memory with thread_parked_rss_*.
//
// The memory figures are measured in a fresh child process per repetition:
// glibc caches the stacks of joined threads, so a second measurement in the
// same process would reuse already-resident pages and report too little.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "os/note.hpp"
#include "os/os_thread.hpp"
#include "pingpong.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

template <class F>
double median_of(int reps, F f) {
  std::vector<double> v;
  for (int i = 0; i < reps; ++i) v.push_back(f());
  return median(v);
}

void report(const char* name, double value, const char* unit) {
  std::printf("%s %.1f %s\n", name, value, unit);
  std::fflush(stdout);
}

double thread_create_join_ns(int count) {
  auto start = clock_type::now();
  for (int i = 0; i < count; ++i) {
    gort::os::Thread t([] {});
    t.join();
  }
  return std::chrono::duration<double, std::nano>(clock_type::now() - start).count() / count;
}

struct Statm {
  long size = 0, resident = 0;  // pages
};

Statm read_statm() {
  std::ifstream in("/proc/self/statm");
  Statm s;
  in >> s.size >> s.resident;
  return s;
}

struct ParkedMemory {
  double rss_kib = 0, vsz_kib = 0;  // per thread
};

// In a child process: park `count` threads on Notes, measure, release them.
ParkedMemory parked_thread_memory(int count, std::size_t stack_size) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t child = fork();
  if (child < 0) std::abort();
  if (child == 0) {
    close(fds[0]);
    const double page_kib = static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024;
    std::vector<std::unique_ptr<gort::os::Note>> notes;
    for (int i = 0; i < count; ++i) notes.push_back(std::make_unique<gort::os::Note>());
    std::vector<gort::os::Thread> threads;
    threads.reserve(count);
    Statm before = read_statm();
    for (int i = 0; i < count; ++i) {
      gort::os::Note* n = notes[i].get();
      threads.emplace_back([n] { n->sleep(); }, gort::os::ThreadOptions{stack_size, "parked"});
    }
    Statm after = read_statm();
    for (auto& n : notes) n->wakeup();
    for (auto& t : threads) t.join();
    ParkedMemory m{(after.resident - before.resident) * page_kib / count,
                   (after.size - before.size) * page_kib / count};
    if (write(fds[1], &m, sizeof m) != static_cast<ssize_t>(sizeof m)) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  ParkedMemory m;
  bool ok = read(fds[0], &m, sizeof m) == static_cast<ssize_t>(sizeof m);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "lab01_bench: the parked-thread child failed\n");
    std::exit(1);
  }
  return m;
}

}  // namespace

int main() {
  constexpr int kReps = 5;
  constexpr int kCreate = 2000;
  constexpr long kRoundTrips = 100000;
  constexpr int kParked = 1000;

  const int busy = gort::bench::other_runnable_threads();
  thread_create_join_ns(200);  // warm up: first thread creations map libraries, stacks
  const double create = median_of(kReps, [] { return thread_create_join_ns(kCreate); });
  report("thread_create_join", create, "ns");

  gort::bench::futex_pingpong_ns_per_switch(10000, true);  // warm up
  const double pinned =
      median_of(kReps, [] { return gort::bench::futex_pingpong_ns_per_switch(kRoundTrips, true); });
  report("futex_pingpong_switch", pinned, "ns");
  const double cross = median_of(
      kReps, [] { return gort::bench::futex_pingpong_ns_per_switch(kRoundTrips, false); });
  report("futex_pingpong_cross_cpu", cross, "ns");

  std::vector<double> rss_d, vsz_d, rss_s, vsz_s;
  for (int i = 0; i < kReps; ++i) {
    ParkedMemory d = parked_thread_memory(kParked, 0);
    ParkedMemory s = parked_thread_memory(kParked, 64 * 1024);
    rss_d.push_back(d.rss_kib);
    vsz_d.push_back(d.vsz_kib);
    rss_s.push_back(s.rss_kib);
    vsz_s.push_back(s.vsz_kib);
  }
  report("thread_parked_rss_default_stack", median(rss_d), "KiB");
  report("thread_parked_rss_64k_stack", median(rss_s), "KiB");
  report("thread_parked_vsz_default_stack", median(vsz_d), "KiB");
  report("thread_parked_vsz_64k_stack", median(vsz_s), "KiB");

  std::printf("# %d other threads were runnable at the start, on %u CPUs%s\n", busy,
              std::thread::hardware_concurrency(),
              busy > 0 ? ": they compete with ours, these figures are noisy" : "");
  std::printf("# medians of %d repetitions; %d creates, %ld round trips, %d parked threads each\n",
              kReps, kCreate, kRoundTrips, kParked);
  std::printf("# a thread start+join costs as much as %.0f one-way switches\n", create / pinned);
  std::printf(
      "# a cross-CPU hand-off costs %.1fx a same-CPU switch here; it swings widely between\n"
      "# runs: waking an idle CPU (a halted vCPU, in a VM) is far dearer than a busy one\n",
      cross / pinned);
  std::printf(
      "# a parked thread keeps %.1f KiB resident whatever its stack reservation "
      "(%.0f KiB vs %.0f KiB of address space): memory is touched lazily\n",
      median(rss_d), median(vsz_d), median(vsz_s));
  std::printf("# 1,000,000 parked threads would need about %.1f GiB of RAM\n",
              median(rss_s) * 1e6 / (1024.0 * 1024.0));
  return 0;
}
