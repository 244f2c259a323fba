// Go by Example, "Non-Blocking Channel Operations", on gort (the Go
// original: non-blocking-channel-operations.go). A gort::default_case makes
// a select return at once when no other case can proceed: a receive, a send
// and a multi-way select that never block.
#include <cstdio>
#include <optional>
#include <string>

#include "gort/gort.hpp"

int main() {
  return gort::run([] {
    gort::Chan<std::string> messages;
    gort::Chan<bool> signals;

    gort::select(gort::recv(messages,
                            [](std::optional<std::string> msg) {
                              std::printf("received message %s\n", msg.value().c_str());
                            }),
                 gort::default_case([] { std::printf("no message received\n"); }));

    // Nobody receives on the unbuffered channel, so the send cannot proceed.
    std::string msg = "hi";
    gort::select(gort::send(messages, msg, [&] { std::printf("sent message %s\n", msg.c_str()); }),
                 gort::default_case([] { std::printf("no message sent\n"); }));

    gort::select(gort::recv(messages,
                            [](std::optional<std::string> m) {
                              std::printf("received message %s\n", m.value().c_str());
                            }),
                 gort::recv(signals,
                            [](std::optional<bool> sig) {
                              std::printf("received signal %s\n", sig.value() ? "true" : "false");
                            }),
                 gort::default_case([] { std::printf("no activity\n"); }));
  });
}
