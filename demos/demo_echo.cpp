// Demo: an echo server with a goroutine per connection, and a load client
// written on gort too, in one process over loopback — round trips per second,
// and what the runtime did meanwhile (threads, netpoll wake-ups).
//
//   demo_echo [--conns N] [--seconds S] [--procs P] [--size B]
//
// Defaults: 100 connections, 64-byte messages, 2 seconds, 2 Ps. Bounded in
// time (the clients stop at the deadline) and in count (each client stops
// after 1,000,000 round trips). Only 127.0.0.1 is used.
#include <gort/gort.hpp>
#include <gort/net.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int arg_int(int argc, char** argv, const char* name, int def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return def;
}

void echo(gort::net::Conn& c) {
  char buf[4096];
  try {
    while (std::size_t n = c.read(buf, sizeof buf)) c.write_all(buf, n);
  } catch (const std::system_error&) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int conns = arg_int(argc, argv, "--conns", 100);
  const int seconds = arg_int(argc, argv, "--seconds", 2);
  const int procs = arg_int(argc, argv, "--procs", 2);
  const std::size_t size = static_cast<std::size_t>(arg_int(argc, argv, "--size", 64));
  constexpr long kMaxPerConn = 1'000'000;
  std::atomic<long> trips{0}, errors{0};
  double elapsed = 0;
  int rc = gort::run(
      [&] {
        auto ln = gort::net::listen("127.0.0.1:0");
        std::printf("echo server on %s: %d client connections, %zu-byte messages, %d s, %d Ps\n",
                    ln.addr().c_str(), conns, size, seconds, procs);
        gort::go([&ln] {
          for (;;) {
            gort::net::Conn c;
            try {
              c = ln.accept();
            } catch (const gort::net::ClosedError&) {
              return;
            }
            gort::go([c = std::move(c)]() mutable { echo(c); });
          }
        });
        auto start = std::chrono::steady_clock::now();
        auto stop = start + std::chrono::seconds(seconds);
        gort::WaitGroup wg;
        wg.add(conns);
        for (int k = 0; k < conns; ++k) {
          gort::go([&, k] {
            try {
              auto c = gort::net::dial(ln.addr());
              std::string msg(size, static_cast<char>('a' + k % 26)), back(size, '\0');
              long n = 0;
              while (n < kMaxPerConn && std::chrono::steady_clock::now() < stop) {
                c.write_all(msg.data(), size);
                std::size_t got = 0;
                while (got < size) {
                  std::size_t r = c.read(back.data() + got, size - got);
                  if (r == 0) throw std::runtime_error("server closed the connection");
                  got += r;
                }
                if (back != msg) throw std::runtime_error("echo differs");
                ++n;
              }
              trips.fetch_add(n);
            } catch (const std::exception& e) {
              if (errors.fetch_add(1) == 0) std::printf("client error: %s\n", e.what());
            }
            wg.done();
          });
        }
        wg.wait();
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ln.close();
        return errors.load() == 0 ? 0 : 1;
      },
      {.procs = procs});
  auto st = gort::debug::stats();
  std::printf("round trips: %ld in %.2f s = %.0f round trips/s (%d errors)\n", trips.load(),
              elapsed, static_cast<double>(trips.load()) / elapsed,
              static_cast<int>(errors.load()));
  std::printf("OS threads: %llu for %d connections (2 goroutines each); netpoll wake-ups: %llu\n",
              static_cast<unsigned long long>(st.threads), conns,
              static_cast<unsigned long long>(st.netpoll_wakeups));
  return rc;
}
