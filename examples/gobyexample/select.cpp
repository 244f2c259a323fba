// Go by Example, "Select", on gort (the Go original: select.go). main waits
// on two channels at once with gort::select and takes whichever is ready.
//
// Reads worse than Go: a case body is a lambda (the handler), so its value
// arrives as a parameter, and `break`/`return` inside it leave the lambda,
// not the loop — select returns the index of the case it ran for that (see
// tickers.cpp). The value is a std::optional because a receive case is also
// ready when its channel is closed (empty then; Go's `msg, ok := <-c1`).
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

int main() {
  return gort::run([] {
    gort::Chan<std::string> c1;
    gort::Chan<std::string> c2;

    gort::go([c1] {
      gort::sleep_for(100ms);
      c1.send("one");
    });
    gort::go([c2] {
      gort::sleep_for(200ms);
      c2.send("two");
    });

    for (int i = 0; i < 2; i++) {
      gort::select(  // one case per channel, as in Go
          gort::recv(c1,
                     [](std::optional<std::string> msg1) {  // case msg1 := <-c1:
                       std::printf("received %s\n", msg1.value().c_str());
                     }),
          gort::recv(c2, [](std::optional<std::string> msg2) {  // case msg2 := <-c2:
            std::printf("received %s\n", msg2.value().c_str());
          }));
    }
  });
}
