// Lab 04 grader — gort::net on the poller (tasks 4-5): echo at scale, end of
// file, reset, deadlines, close waking a blocked reader, and errors that
// name their input. Exact orders on one P; the 1000-connection echo checks
// invariants (every byte back, in order) on two. No wall-clock thresholds:
// a deadline test only asks *whether* it timed out.
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "gort/gort.hpp"
#include "gort/net.hpp"
#include "gort_grader.hpp"
#include "lab04_util.hpp"

using gort::net::Conn;
using gort::net::Listener;

namespace {

/// The bytes client @p k sends in round @p r: sizes 1..~6000, a pattern
/// that differs per client and per round, so a crossed or reordered chunk shows.
std::string message(int k, int r) {
  std::size_t n = static_cast<std::size_t>((k * 37 + r * 1013) % 6000 + 1);
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((k * 7 + r * 13 + i) % 251);
  return s;
}

/// A raw (blocking, non-gort) TCP client connected to 127.0.0.1:@p port.
int raw_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // The listener's backlog completes the handshake: no accept needed yet.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

GRADED_TEST("net: 1000 concurrent echo connections get every byte back in order", 12,
            "Task 5: the I/O loops") {
  constexpr int kConns = 1000, kRounds = 3;
  REQUIRE(lab04::raise_fd_limit(2 * kConns + 64));
  std::atomic<int> ok{0}, bad{0};
  std::string first_error;
  gort::Mutex err_mu;
  gort::run(
      [&] {
        Listener ln = gort::net::listen("127.0.0.1:0");
        gort::WaitGroup servers;
        lab04::serve(ln, lab04::echo, servers);
        gort::WaitGroup wg;
        wg.add(kConns);
        for (int k = 0; k < kConns; ++k) {
          gort::go([&, k] {
            try {
              Conn c = gort::net::dial(lab04::addr_of(ln));
              bool good = true;
              for (int r = 0; r < kRounds && good; ++r) {
                std::string m = message(k, r);
                c.write_all(m.data(), m.size());
                good = lab04::read_full(c, m.size()) == m;
              }
              (good ? ok : bad).fetch_add(1);
            } catch (const std::exception& e) {
              bad.fetch_add(1);
              err_mu.lock();
              if (first_error.empty()) first_error = e.what();
              err_mu.unlock();
            }
            wg.done();
          });
        }
        wg.wait();
        ln.close();
        servers.wait();  // every client closed: every echo goroutine sees end of file
      },
      {.procs = 2});
  CHECK_MESSAGE(ok.load() == kConns, ok.load(), " of ", kConns,
                " connections got every byte back in order; ", bad.load(),
                " did not (first error: ", first_error, ")");
}

GRADED_TEST("net: end of file comes only after all of the peer's data", 8,
            "Task 5: the I/O loops") {
  std::string got;
  int zero_reads = 0;
  bool eof_before_write = false;
  gort::run(
      [&] {
        Listener ln = gort::net::listen("127.0.0.1:0");
        auto [c, s] = lab04::connect_pair(ln);
        bool written = false;
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&, &s = s] {
          char b[64];
          for (;;) {
            std::size_t n = s.read(b, sizeof b);
            if (n == 0) {
              ++zero_reads;
              eof_before_write = !written;
              break;
            }
            got.append(b, n);
          }
          wg.done();
        });
        gort::yield();  // the reader finds nothing yet (EAGAIN) and must park
        written = true;
        c.write_all("hello", 5);
        gort::yield();
        c.write_all(", world", 7);
        c.close();
        wg.wait();
      },
      {.procs = 1});
  CHECK_MESSAGE(!eof_before_write,
                "read returned 0 before the peer wrote anything: EAGAIN means \"no data yet\" "
                "(park and retry), only a 0 from read(2) is end of file");
  CHECK_MESSAGE(got == "hello, world", "the reader got \"", got, "\"");
  CHECK(zero_reads == 1);
}

GRADED_TEST("net: a peer reset is an ECONNRESET error and not end of file", 6,
            "Task 5: the I/O loops") {
  std::string what;
  int code = 0;
  bool returned = false;
  gort::run(
      [&] {
        Listener ln = gort::net::listen("127.0.0.1:0");
        int raw = raw_connect(ln.port());
        REQUIRE(raw >= 0);
        Conn s = ln.accept();
        gort::WaitGroup wg;
        wg.add(1);
        gort::go([&] {
          char b[16];
          try {
            s.read(b, sizeof b);
            returned = true;
          } catch (const std::system_error& e) {
            code = e.code().value();
            what = e.what();
          }
          wg.done();
        });
        gort::yield();    // the reader parks
        linger lg{1, 0};  // close with SO_LINGER 0: the kernel sends RST
        ::setsockopt(raw, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        ::close(raw);
        wg.wait();
      },
      {.procs = 1});
  CHECK_MESSAGE(!returned, "read returned normally after the peer reset the connection");
  CHECK_MESSAGE(code == ECONNRESET, "read failed with errno ", code, " (", what,
                "), expected ECONNRESET: a reset is an error, not end of file");
}

GRADED_TEST("net: a read deadline times out and data that beats it is no timeout", 10,
            "Task 4: deadlines") {
  bool timed_out = false, code_ok = false, usable_after = false, past_timed_out = false;
  bool beat_ok = false;
  std::string beat_error;
  gort::run(
      [&] {
        Listener ln = gort::net::listen("127.0.0.1:0");
        auto [c, s] = lab04::connect_pair(ln);
        char b[8];
        // 1. Nothing comes: the read must end with a timeout.
        s.set_read_deadline(gort::net::Clock::now() + std::chrono::milliseconds(30));
        try {
          s.read(b, sizeof b);
        } catch (const gort::net::TimeoutError& e) {
          timed_out = true;
          code_ok = e.code() == std::errc::timed_out;
        }
        // 2. The connection stays usable once the deadline is cleared.
        s.set_read_deadline(gort::net::kNoDeadline);
        c.write_all("a", 1);
        usable_after = s.read(b, sizeof b) == 1 && b[0] == 'a';
        // 3. A deadline already past fails at once.
        s.set_read_deadline(gort::net::Clock::now() - std::chrono::seconds(1));
        try {
          s.read(b, sizeof b);
        } catch (const gort::net::TimeoutError&) {
          past_timed_out = true;
        }
        // 4. Data that arrives before a (far) deadline is read normally.
        s.set_read_deadline(gort::net::Clock::now() + std::chrono::seconds(30));
        gort::go([&c = c] { c.write_all("b", 1); });
        try {
          beat_ok = s.read(b, sizeof b) == 1 && b[0] == 'b';
        } catch (const std::exception& e) {
          beat_error = e.what();
        }
      },
      {.procs = 1});
  CHECK_MESSAGE(timed_out, "a read with a 30 ms deadline and no data did not throw TimeoutError");
  CHECK_MESSAGE(code_ok, "the timeout's code() must be std::errc::timed_out");
  CHECK_MESSAGE(usable_after, "after clearing the deadline, a read did not get the byte sent");
  CHECK_MESSAGE(past_timed_out, "a read with a deadline in the past did not time out at once");
  CHECK_MESSAGE(beat_ok,
                "data that arrived before the deadline was not read normally: ", beat_error);
}

GRADED_TEST("net: close wakes a goroutine blocked in read and accept", 8, "Task 4: close") {
  std::string read_err, accept_err, after_err;
  gort::run(
      [&] {
        Listener ln = gort::net::listen("127.0.0.1:0");
        Listener ln2 = gort::net::listen("127.0.0.1:0");
        auto [c, s] = lab04::connect_pair(ln);
        gort::WaitGroup wg;
        wg.add(2);
        gort::go([&, &s = s] {
          char b[8];
          try {
            s.read(b, sizeof b);
          } catch (const gort::net::ClosedError& e) {
            read_err = e.what();
          }
          wg.done();
        });
        gort::go([&] {
          try {
            ln2.accept();
          } catch (const gort::net::ClosedError& e) {
            accept_err = e.what();
          }
          wg.done();
        });
        gort::yield();  // both park
        s.close();      // from another goroutine than the blocked reader
        ln2.close();
        wg.wait();
        try {
          char b[1];
          s.read(b, 1);
        } catch (const gort::net::ClosedError& e) {
          after_err = e.what();
        }
      },
      {.procs = 1});
  const std::string kMsg = "use of closed network connection";
  CHECK_MESSAGE(read_err.find(kMsg) != std::string::npos,
                "the reader blocked in read when another goroutine closed the Conn got \"",
                read_err, "\"; expected a ClosedError saying \"", kMsg, "\"");
  CHECK_MESSAGE(accept_err.find(kMsg) != std::string::npos, "the blocked accept got \"", accept_err,
                "\"");
  CHECK_MESSAGE(after_err.find(kMsg) != std::string::npos, "a read after close got \"", after_err,
                "\"");
}

GRADED_TEST("net: bad input gets an error that names it", 6, "Task 5: errors") {
  struct Case {
    std::string what;
    int code;
  };
  std::vector<Case> got;
  std::string refused_addr, inuse_addr;
  bool v6_echo = false, v6_skipped = false, emfile = false, accepted_after = false;
  bool outside_run_throws = false;
  try {
    gort::net::listen("127.0.0.1:0");
  } catch (const std::logic_error&) {
    outside_run_throws = true;
  }
  gort::run(
      [&] {
        Listener ln = gort::net::listen("127.0.0.1:0");
        auto attempt = [&](auto fn) {
          try {
            fn();
            got.push_back({"(no error)", 0});
          } catch (const std::system_error& e) {
            got.push_back({e.what(), e.code().value()});
          }
        };
        attempt([] { gort::net::listen("127.0.0.1"); });
        attempt([] { gort::net::listen("127.0.0.1:99999"); });
        attempt([] { gort::net::dial("no.such.host.invalid:80"); });
        inuse_addr = ln.addr();
        attempt([&] { gort::net::listen(inuse_addr); });
        {
          Listener gone = gort::net::listen("127.0.0.1:0");
          refused_addr = gone.addr();
        }
        attempt([&] { gort::net::dial(refused_addr); });
        // IPv6 loopback, where the machine has it.
        try {
          Listener l6 = gort::net::listen("[::1]:0");
          Conn c = gort::net::dial("[::1]:" + std::to_string(l6.port()));
          Conn s = l6.accept();
          c.write_all("6", 1);
          char b = 0;
          v6_echo = s.read(&b, 1) == 1 && b == '6' && s.local_addr().front() == '[';
        } catch (const std::system_error& e) {
          if (e.code().value() == EADDRNOTAVAIL || e.code().value() == EAFNOSUPPORT) {
            v6_skipped = true;
          }
        }
        // Out of file descriptors: accept must fail, not spin.
        int raw = raw_connect(ln.port());
        REQUIRE(raw >= 0);
        int lowest = ::dup(0);
        ::close(lowest);
        rlimit old{};
        ::getrlimit(RLIMIT_NOFILE, &old);
        rlimit tight = old;
        tight.rlim_cur = static_cast<rlim_t>(lowest);
        ::setrlimit(RLIMIT_NOFILE, &tight);
        try {
          ln.accept();
        } catch (const std::system_error& e) {
          emfile = e.code().value() == EMFILE;
        }
        ::setrlimit(RLIMIT_NOFILE, &old);
        Conn later = ln.accept();  // the same connection, now that a descriptor is free
        accepted_after = static_cast<bool>(later);
        ::close(raw);
      },
      {.procs = 1});
  CHECK_MESSAGE(outside_run_throws, "gort::net::listen outside gort::run must throw logic_error");
  REQUIRE(got.size() == 5);
  auto check = [&](int i, int code, const std::string& needle) {
    CHECK_MESSAGE(got[i].code == code, "case ", i, ": got errno ", got[i].code, " (", got[i].what,
                  "), expected ", code);
    CHECK_MESSAGE(got[i].what.find(needle) != std::string::npos, "case ", i, ": the error \"",
                  got[i].what, "\" does not name the input \"", needle, "\"");
  };
  check(0, EINVAL, "127.0.0.1");
  check(1, EINVAL, "99999");
  check(2, EINVAL, "no.such.host.invalid");
  check(3, EADDRINUSE, inuse_addr);
  check(4, ECONNREFUSED, refused_addr);
  CHECK_MESSAGE((v6_echo || v6_skipped), "IPv6 loopback ([::1]) did not carry a byte");
  CHECK_MESSAGE(emfile, "accept with no free file descriptor must throw EMFILE");
  CHECK(accepted_after);
}
