// Go by Example, "WaitGroups", on gort (the Go original: waitgroups.go).
// main waits for five workers with a gort::WaitGroup. Their lines come in
// scheduling order, in Go too: compared as a multiset.
#include <chrono>
#include <cstdio>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

static void worker(int id) {
  std::printf("Worker %d starting\n", id);

  gort::sleep_for(100ms);
  std::printf("Worker %d done\n", id);
}

int main() {
  return gort::run([] {
    gort::WaitGroup wg;

    for (int i = 1; i <= 5; i++) {
      wg.add(1);
      // Capture by value what each goroutine owns (i), by reference what it
      // shares (wg, which outlives them: main waits for them below).
      // Go has no `defer`: done() is the last statement instead (a worker
      // that threw would panic the process anyway, as in Go).
      gort::go([&wg, i] {
        worker(i);
        wg.done();
      });
    }

    wg.wait();
  });
}
