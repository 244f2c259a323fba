// Go by Example, "Channel Synchronization", on gort (the Go original:
// channel-synchronization.go). main blocks on a channel until the worker
// says it is done.
#include <chrono>
#include <cstdio>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

static void worker(gort::Chan<bool> done) {
  std::printf("working...");
  gort::sleep_for(100ms);
  std::printf("done\n");

  done.send(true);
}

int main() {
  return gort::run([] {
    gort::Chan<bool> done(1);
    gort::go(worker, done);

    done.recv();  // `<-done`: the value is not needed
  });
}
