// Go by Example, "Timeouts", on gort (the Go original: timeouts.go). A
// select between a result and gort::after(d) bounds how long main waits.
// The buffered result channels let the late sender finish even though nobody
// receives its result any more.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

int main() {
  return gort::run([] {
    gort::Chan<std::string> c1(1);
    gort::go([c1] {
      gort::sleep_for(200ms);
      c1.send("result 1");
    });

    gort::select(
        gort::recv(
            c1, [](std::optional<std::string> res) { std::printf("%s\n", res.value().c_str()); }),
        gort::recv(gort::after(100ms), [] { std::printf("timeout 1\n"); }));

    gort::Chan<std::string> c2(1);
    gort::go([c2] {
      gort::sleep_for(200ms);
      c2.send("result 2");
    });
    gort::select(
        gort::recv(
            c2, [](std::optional<std::string> res) { std::printf("%s\n", res.value().c_str()); }),
        gort::recv(gort::after(300ms), [] { std::printf("timeout 2\n"); }));
  });
}
