// Lab 04 extras (solution only): the poller across consecutive gort::run
// calls. A run may end with goroutines parked on descriptors (they are
// abandoned, as in Go); the next run must be able to wait on the same fds,
// and a connection that outlived its run reports itself closed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gort/gort.hpp"
#include "gort/net.hpp"

TEST_CASE("netpoll: a later run can wait on an fd a goroutine of an earlier run was waiting on") {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  for (int r = 0; r < 3; ++r) {
    gort::run(
        [&] {
          gort::go([&] { gort::net::wait_readable(p[0]); });  // abandoned when main returns
          gort::yield();
        },
        {.procs = 1});
  }
  char got = 0;
  gort::run(
      [&] {
        gort::go([&] { REQUIRE(::write(p[1], "y", 1) == 1); });
        gort::net::wait_readable(p[0]);  // was: epoll_ctl(ADD) failed with EEXIST
        REQUIRE(::read(p[0], &got, 1) == 1);
      },
      {.procs = 1});
  CHECK(got == 'y');
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("net: a connection kept past the end of its run reports itself closed") {
  gort::net::Conn kept;
  gort::net::Listener ln;
  gort::run([&] {
    ln = gort::net::listen("127.0.0.1:0");
    kept = gort::net::dial(ln.addr());
  });
  std::string what;
  gort::run([&] {
    char b;
    try {
      kept.read(&b, 1);
    } catch (const gort::net::ClosedError& e) {
      what = e.what();
    }
    kept = gort::net::Conn();
    ln = gort::net::Listener();
  });
  CHECK(what.find("use of closed network connection") != std::string::npos);
}
