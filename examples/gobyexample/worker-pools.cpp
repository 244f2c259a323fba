// Go by Example, "Worker Pools", on gort (the Go original: worker-pools.go).
// Three workers take five jobs from one channel and send results on
// another. Which worker takes which job depends on scheduling, in Go too:
// compared as a multiset of lines with the worker ids masked.
#include <chrono>
#include <cstdio>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

static void worker(int id, gort::Chan<int> jobs /* receive only */,
                   gort::Chan<int> results /* send only */) {
  for (int j : jobs) {  // `for j := range jobs`
    std::printf("worker %d started  job %d\n", id, j);
    gort::sleep_for(100ms);
    std::printf("worker %d finished job %d\n", id, j);
    results.send(j * 2);
  }
}

int main() {
  return gort::run([] {
    constexpr int num_jobs = 5;
    gort::Chan<int> jobs(num_jobs);
    gort::Chan<int> results(num_jobs);

    for (int w = 1; w <= 3; w++) {
      gort::go(worker, w, jobs, results);
    }

    for (int j = 1; j <= num_jobs; j++) {
      jobs.send(j);
    }
    jobs.close();

    for (int a = 1; a <= num_jobs; a++) {
      results.recv();
    }
  });
}
