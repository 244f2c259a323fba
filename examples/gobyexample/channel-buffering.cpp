// Go by Example, "Channel Buffering", on gort (the Go original:
// channel-buffering.go). A channel with room for two values accepts two sends
// with no receiver waiting.
#include <cstdio>
#include <string>

#include "gort/gort.hpp"

int main() {
  return gort::run([] {
    gort::Chan<std::string> messages(2);  // make(chan string, 2)

    messages.send("buffered");
    messages.send("channel");

    std::printf("%s\n", messages.recv()->c_str());
    std::printf("%s\n", messages.recv()->c_str());
  });
}
