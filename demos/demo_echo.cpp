// Demo: an echo server with a goroutine per connection, and a load client
// written on gort too, in one process over loopback — round trips per second,
// and what the runtime did meanwhile (threads, netpoll wake-ups).
//
//   demo_echo [--conns N] [--seconds S] [--procs P] [--size B] [--hold H]
//
// Defaults: 100 connections, 64-byte messages, 2 seconds, 2 Ps. Bounded in
// time (the clients stop at the deadline) and in count (each client stops
// after 1,000,000 round trips). Then it holds H idle connections at once
// (default 10,000, fewer if the open-file limit is lower), each with a server
// goroutine parked in read, and prints the resident memory per connection.
// Only 127.0.0.1 is used.
#include <gort/gort.hpp>
#include <gort/net.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
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

/// Resident set size of this process, KiB.
double rss_kib() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1024.0;
}

/// How many connections (two descriptors each) the open-file limit allows.
int fd_budget(int want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t need = static_cast<rlim_t>(want) * 2 + 128;
  if (rl.rlim_cur < need) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  long fit = (static_cast<long>(rl.rlim_cur) - 128) / 2;
  return static_cast<int>(std::max(0L, std::min<long>(want, fit)));
}

/// Holds @p n idle connections at once and prints the memory they cost.
void hold(int n) {
  auto ln = gort::net::listen("127.0.0.1:0");
  std::atomic<int> parked{0};
  gort::WaitGroup accepting;  // ln must outlive the acceptor's accept()
  accepting.add(1);
  gort::go([&] {
    for (;;) {
      gort::net::Conn c;
      try {
        c = ln.accept();
      } catch (const gort::net::ClosedError&) {
        accepting.done();
        return;
      }
      gort::go([&parked, c = std::move(c)]() mutable {
        char b;
        parked.fetch_add(1);
        try {
          c.read(&b, 1);  // parks until the client closes
        } catch (const std::system_error&) {
        }
      });
    }
  });
  std::vector<gort::net::Conn> clients;
  clients.reserve(static_cast<std::size_t>(n));
  gort::yield();
  double before = rss_kib();
  for (int i = 0; i < n; ++i) clients.push_back(gort::net::dial(ln.addr()));
  while (parked.load() < n) gort::yield();
  double after = rss_kib();
  std::printf(
      "held %d idle connections at once (a goroutine parked in read on each): %.1f MiB "
      "resident more, %.2f KiB per connection (both ends, their goroutine, socket "
      "buffers not counted: those are the kernel's)\n",
      n, (after - before) / 1024.0, (after - before) / n);
  clients.clear();  // closing the clients ends the server goroutines (EOF)
  ln.close();
  accepting.wait();
}

}  // namespace

int main(int argc, char** argv) {
  const int conns = arg_int(argc, argv, "--conns", 100);
  const int seconds = arg_int(argc, argv, "--seconds", 2);
  const int procs = arg_int(argc, argv, "--procs", 2);
  const std::size_t size = static_cast<std::size_t>(arg_int(argc, argv, "--size", 64));
  const int hold_n = fd_budget(arg_int(argc, argv, "--hold", 10000));
  constexpr long kMaxPerConn = 1'000'000;
  std::atomic<long> trips{0}, errors{0};
  double elapsed = 0;
  int rc = gort::run(
      [&] {
        auto ln = gort::net::listen("127.0.0.1:0");
        std::printf("echo server on %s: %d client connections, %zu-byte messages, %d s, %d Ps\n",
                    ln.addr().c_str(), conns, size, seconds, procs);
        // The acceptor says when it is out of accept(): ln must outlive it (a
        // goroutine woken by ln.close() may still run on another thread).
        gort::WaitGroup accepting;
        accepting.add(1);
        gort::go([&] {
          for (;;) {
            gort::net::Conn c;
            try {
              c = ln.accept();
            } catch (const gort::net::ClosedError&) {
              accepting.done();
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
        accepting.wait();
        if (hold_n > 0) hold(hold_n);
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
