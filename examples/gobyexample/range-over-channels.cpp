// Go by Example, "Range over Channels", on gort (the Go original:
// range-over-channels.go). A range-for over a gort::Chan receives until the
// channel is closed and drained, as Go's `for elem := range queue` does
// (gort::begin/end in gort/chan.hpp).
#include <cstdio>
#include <string>

#include "gort/gort.hpp"

int main() {
  return gort::run([] {
    gort::Chan<std::string> queue(2);
    queue.send("one");
    queue.send("two");
    queue.close();

    for (const std::string& elem : queue) {
      std::printf("%s\n", elem.c_str());
    }
  });
}
