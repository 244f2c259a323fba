// Go by Example, "Tickers", on gort (the Go original: tickers.go). A
// gort::Ticker sends the time on its channel every period until stopped; a
// goroutine prints the ticks until main tells it, on `done`, to return.
// Compared with Go with the times masked.
//
// Reads worse than Go: `case <-done: return` cannot be written inside the
// handler (a `return` there leaves the lambda, not the goroutine), so the
// loop tests the index select returns: case 0 is the done case. And there is
// no fmt for a time_point: it is printed as milliseconds since the program
// started (Go's time.Time prints that too, as its monotonic "m=+0.100").
#include <chrono>
#include <cstdio>
#include <optional>

#include "gort/gort.hpp"

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

static const TimePoint start = std::chrono::steady_clock::now();

int main() {
  return gort::run([] {
    gort::Ticker ticker(100ms);
    gort::Chan<bool> done;

    gort::go([ticker, done] {
      for (;;) {
        int chosen = gort::select(gort::recv(done),  // no handler: the value is dropped
                                  gort::recv(ticker.c(), [](std::optional<TimePoint> t) {
                                    std::chrono::duration<double, std::milli> since =
                                        t.value() - start;
                                    std::printf("Tick at +%.1f ms\n", since.count());
                                  }));
        if (chosen == 0) return;
      }
    });

    gort::sleep_for(350ms);
    ticker.stop();
    done.send(true);
    std::printf("Ticker stopped\n");
  });
}
