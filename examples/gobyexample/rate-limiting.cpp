// Go by Example, "Rate Limiting", on gort (the Go original:
// rate-limiting.go). A ticker's channel paces requests to one per tick;
// a buffered channel of "permits", refilled by a ticker, allows a burst of
// three before the same pace. Compared with Go with the times masked.
#include <chrono>
#include <cstdio>

#include "gort/gort.hpp"

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

static const TimePoint start = std::chrono::steady_clock::now();

// Go prints time.Now(); there is no fmt for a time_point: milliseconds since
// the program started (Go's time.Time prints that too, as "m=+0.020").
static void print_request(int req) {
  std::chrono::duration<double, std::milli> since = std::chrono::steady_clock::now() - start;
  std::printf("request %d +%.1f ms\n", req, since.count());
}

int main() {
  return gort::run([] {
    gort::Chan<int> requests(5);
    for (int i = 1; i <= 5; i++) {
      requests.send(i);
    }
    requests.close();

    gort::Chan<TimePoint> limiter = gort::tick(20ms);

    for (int req : requests) {
      limiter.recv();
      print_request(req);
    }

    gort::Chan<TimePoint> bursty_limiter(3);

    for (int i = 0; i < 3; i++) {
      bursty_limiter.send(std::chrono::steady_clock::now());
    }

    gort::go([bursty_limiter] {
      for (TimePoint t : gort::tick(20ms)) {
        bursty_limiter.send(t);
      }
    });

    gort::Chan<int> bursty_requests(5);
    for (int i = 1; i <= 5; i++) {
      bursty_requests.send(i);
    }
    bursty_requests.close();
    for (int req : bursty_requests) {
      bursty_limiter.recv();
      print_request(req);
    }
  });
}
