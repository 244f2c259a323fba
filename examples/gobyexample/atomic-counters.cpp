// Go by Example, "Atomic Counters", on gort (the Go original:
// atomic-counters.go). 50 goroutines, on several Ps (threads), add to one
// std::atomic: goroutines need nothing special from the runtime for atomics.
#include <atomic>
#include <cstdint>
#include <cstdio>

#include "gort/gort.hpp"

int main() {
  return gort::run([] {
    std::atomic<std::uint64_t> ops{0};

    gort::WaitGroup wg;

    for (int i = 0; i < 50; i++) {
      wg.add(1);

      gort::go([&ops, &wg] {
        for (int c = 0; c < 1000; c++) {
          ops.fetch_add(1);
        }

        wg.done();
      });
    }

    wg.wait();

    std::printf("ops: %llu\n", static_cast<unsigned long long>(ops.load()));
  });
}
