// Outside consumer of the installed gort package (tests/consumer/): uses the
// public API — run, go, Chan, WaitGroup, Mutex — and checks the results, so
// the install is proven usable, not just findable. Exit 0 only when every
// check holds; each failure says what was expected.
#include <gort/gort.hpp>

#include <cstdio>
#include <mutex>
#include <vector>

namespace {

int failures = 0;

void expect(bool ok, const char* what, long got, long want) {
  if (!ok) {
    std::fprintf(stderr, "gort_consumer: %s: got %ld, want %ld\n", what, got, want);
    ++failures;
  }
}

}  // namespace

int main() {
  constexpr int kWorkers = 8;
  constexpr int kItems = 10000;
  int rc = gort::run(
      [] {
        // A fan-out/fan-in pipeline: one producer, kWorkers squarers, one sum.
        gort::Chan<long> jobs(64), results;
        gort::WaitGroup wg;
        gort::go([jobs] {
          for (long i = 1; i <= kItems; ++i) jobs.send(i);
          jobs.close();
        });
        for (int w = 0; w < kWorkers; ++w) {
          wg.add(1);
          gort::go([&wg, jobs, results] {
            while (auto v = jobs.recv()) results.send(*v * *v);
            wg.done();
          });
        }
        gort::go([&wg, results] {
          wg.wait();
          results.close();
        });
        long sum = 0, count = 0;
        while (auto r = results.recv()) {
          sum += *r;
          ++count;
        }
        long want = static_cast<long>(kItems) * (kItems + 1) * (2L * kItems + 1) / 6;
        expect(count == kItems, "results received", count, kItems);
        expect(sum == want, "sum of squares", sum, want);

        // A Mutex-protected counter bumped by goroutines that yield inside it.
        gort::Mutex mu;
        long counter = 0;
        gort::WaitGroup done;
        for (int g = 0; g < kWorkers; ++g) {
          done.add(1);
          gort::go([&] {
            for (int i = 0; i < 1000; ++i) {
              std::lock_guard<gort::Mutex> lock(mu);
              long seen = counter;
              gort::yield();
              counter = seen + 1;
            }
            done.done();
          });
        }
        done.wait();
        expect(counter == kWorkers * 1000L, "mutex-protected counter", counter, kWorkers * 1000L);
        return 7;  // run() must hand main's result back
      },
      {.procs = 2});
  expect(rc == 7, "gort::run result", rc, 7);
  if (failures == 0) std::printf("gort_consumer: ok (installed gort, find_package, gort::gort)\n");
  return failures == 0 ? 0 : 1;
}
