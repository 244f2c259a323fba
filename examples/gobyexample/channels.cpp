// Go by Example, "Channels", on gort (the Go original: channels.go).
// An unbuffered channel: the goroutine's send and main's receive meet.
#include <cstdio>
#include <string>

#include "gort/gort.hpp"

int main() {
  return gort::run([] {
    gort::Chan<std::string> messages;

    // A Chan is a handle: the lambda captures a copy of it, which refers to
    // the same channel (Go's chan values behave the same way).
    gort::go([messages] { messages.send("ping"); });

    // `msg := <-messages`: recv() returns std::optional, empty only when the
    // channel is closed (Go's `msg, ok := <-messages`); this one never is.
    std::string msg = *messages.recv();
    std::printf("%s\n", msg.c_str());
  });
}
