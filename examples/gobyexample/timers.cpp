// Go by Example, "Timers", on gort (the Go original: timers.go). A
// gort::Timer sends the time on its channel once; stopped before it fires,
// it never sends, so the goroutine waiting for timer 2 never prints.
//
// Go's field timer.C is the method c() here (a Timer is a copyable handle
// that shares one timer, as Go's *time.Timer does).
#include <chrono>
#include <cstdio>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

int main() {
  return gort::run([] {
    gort::Timer timer1(200ms);

    timer1.c().recv();
    std::printf("Timer 1 fired\n");

    gort::Timer timer2(100ms);
    gort::go([timer2] {
      timer2.c().recv();
      std::printf("Timer 2 fired\n");
    });
    bool stop2 = timer2.stop();
    if (stop2) {
      std::printf("Timer 2 stopped\n");
    }

    gort::sleep_for(200ms);
  });
}
