// Go by Example, "Channel Directions", on gort (the Go original:
// channel-directions.go).
//
// Reads worse than Go: Go's parameter types `chan<- string` (send only) and
// `<-chan string` (receive only) let the compiler reject a receive from
// `pongs` inside pong(); gort::Chan has no direction, so here the direction is
// only a comment. Send-only and receive-only views of a Chan would be a small
// addition, but every channel operation taking a Chan (select's recv/send
// cases included) would need an overload for them, so it is proposed in
// docs/examples.md rather than done here.
#include <cstdio>
#include <string>

#include "gort/gort.hpp"

static void ping(const gort::Chan<std::string>& pings /* send only */, std::string msg) {
  pings.send(std::move(msg));
}

static void pong(const gort::Chan<std::string>& pings /* receive only */,
                 const gort::Chan<std::string>& pongs /* send only */) {
  std::string msg = *pings.recv();
  pongs.send(std::move(msg));
}

int main() {
  return gort::run([] {
    gort::Chan<std::string> pings(1);
    gort::Chan<std::string> pongs(1);
    ping(pings, "passed message");
    pong(pings, pongs);
    std::printf("%s\n", pongs.recv()->c_str());
  });
}
