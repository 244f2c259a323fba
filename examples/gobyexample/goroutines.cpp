// Go by Example, "Goroutines", on gort (the Go original: goroutines.go).
// A function called directly, then as a goroutine, then a lambda as a
// goroutine; main sleeps to let them finish (the WaitGroup chapter shows the
// proper way). Compared with Go's output by compare.py: the direct lines and
// "done" exactly, the goroutines' lines as a multiset.
#include <chrono>
#include <cstdio>
#include <string>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

static void f(const std::string& from) {
  for (int i = 0; i < 3; i++) {
    std::printf("%s : %d\n", from.c_str(), i);
  }
}

int main() {
  return gort::run([] {
    f("direct");

    // `go f("goroutine")`: gort::go copies its arguments into the goroutine,
    // as Go evaluates them at the go statement.
    gort::go(f, std::string("goroutine"));

    gort::go([](const std::string& msg) { std::printf("%s\n", msg.c_str()); },
             std::string("going"));

    gort::sleep_for(100ms);
    std::printf("done\n");
  });
}
