// Go by Example, "Mutexes", on gort (the Go original: mutexes.go). Three
// goroutines increment shared counters under a gort::Mutex, which parks a
// waiting goroutine instead of blocking its thread; std::lock_guard plays
// Go's `defer c.mu.Unlock()`.
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "gort/gort.hpp"

struct Container {
  gort::Mutex mu;
  std::map<std::string, int> counters;

  void inc(const std::string& name) {
    std::lock_guard lock(mu);
    counters[name]++;
  }
};

int main() {
  return gort::run([] {
    Container c{.mu = {}, .counters = {{"a", 0}, {"b", 0}}};

    gort::WaitGroup wg;

    auto do_increment = [&c, &wg](const std::string& name, int n) {
      for (int i = 0; i < n; i++) {
        c.inc(name);
      }
      wg.done();
    };

    wg.add(3);
    gort::go(do_increment, std::string("a"), 10000);
    gort::go(do_increment, std::string("a"), 10000);
    gort::go(do_increment, std::string("b"), 10000);

    wg.wait();
    // Reads worse than Go: fmt.Println prints a map as map[k:v ...] (keys
    // sorted); C++ has no such formatting, so it is spelled out.
    std::printf("map[");
    const char* sep = "";
    for (const auto& [k, v] : c.counters) {
      std::printf("%s%s:%d", sep, k.c_str(), v);
      sep = " ";
    }
    std::printf("]\n");
  });
}
