// Demo: an HTTP/1.1 "hello" server with keep-alive, a goroutine per
// connection, on gort::net.
//
//   demo_http                 serve on 127.0.0.1:0, drive it with a short
//                             client of its own (8 connections x 500 keep-alive
//                             requests), print requests/s, exit
//   demo_http --serve [PORT]  serve on 127.0.0.1:PORT (default 8080) for 60 s
//                             (or --seconds S; --procs P, default 2), e.g. for
//                               curl -v http://127.0.0.1:8080/
//                               wrk -t1 -c64 -d10s http://127.0.0.1:8080/
//
// Loopback only. The parser is minimal on purpose: it reads up to the blank
// line that ends the request head, ignores bodies (GET only), and keeps the
// connection open unless the client says "Connection: close".
#include <gort/gort.hpp>
#include <gort/net.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr char kResponse[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";

std::atomic<long> served{0};

/// Serves requests on @p c until the peer closes or asks to close.
void serve_conn(gort::net::Conn& c) {
  std::string buf;
  char tmp[4096];
  try {
    for (;;) {
      std::size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (buf.size() > 64 * 1024) return;  // an endless head: drop the client
        std::size_t n = c.read(tmp, sizeof tmp);
        if (n == 0) return;
        buf.append(tmp, n);
      }
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      c.write_all(kResponse, sizeof kResponse - 1);
      served.fetch_add(1, std::memory_order_relaxed);
      if (head.find("Connection: close") != std::string::npos ||
          head.find("connection: close") != std::string::npos) {
        return;
      }
    }
  } catch (const std::system_error&) {
  }
}

/// Accepts until @p ln is closed, then says so on @p done: the caller
/// waits for that before @p ln goes out of scope (a goroutine woken by the
/// close may still be inside accept() on another thread).
void accept_loop(gort::net::Listener& ln, gort::WaitGroup& done) {
  for (;;) {
    gort::net::Conn c;
    try {
      c = ln.accept();
    } catch (const gort::net::ClosedError&) {
      done.done();
      return;
    }
    gort::go([c = std::move(c)]() mutable { serve_conn(c); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool serve = false;
  int port = 8080, seconds = 60, procs = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--serve") == 0) {
      serve = true;
      if (i + 1 < argc && argv[i + 1][0] != '-') port = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--procs") == 0 && i + 1 < argc) {
      procs = std::atoi(argv[++i]);
    }
  }
  return gort::run(
      [&] {
        if (serve) {
          auto ln = gort::net::listen("127.0.0.1:" + std::to_string(port));
          std::printf("serving http://%s/ for %d s (Ctrl-C to stop)\n", ln.addr().c_str(), seconds);
          std::fflush(stdout);
          gort::WaitGroup accepting;
          accepting.add(1);
          gort::go([&] { accept_loop(ln, accepting); });
          gort::sleep_for(std::chrono::seconds(seconds));
          ln.close();
          accepting.wait();
          std::printf("served %ld requests\n", served.load());
          return 0;
        }
        constexpr int kConns = 8, kRequests = 500;
        auto ln = gort::net::listen("127.0.0.1:0");
        gort::WaitGroup accepting;
        accepting.add(1);
        gort::go([&] { accept_loop(ln, accepting); });
        std::atomic<long> ok{0};
        auto start = std::chrono::steady_clock::now();
        gort::WaitGroup wg;
        wg.add(kConns);
        for (int k = 0; k < kConns; ++k) {
          gort::go([&] {
            try {
              auto c = gort::net::dial(ln.addr());
              const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
              std::string resp;
              char tmp[1024];
              for (int i = 0; i < kRequests; ++i) {
                c.write_all(req, sizeof req - 1);
                resp.clear();
                while (resp.size() < sizeof kResponse - 1) {
                  std::size_t n = c.read(tmp, sizeof tmp);
                  if (n == 0) break;
                  resp.append(tmp, n);
                }
                if (resp == kResponse) ok.fetch_add(1);
              }
            } catch (const std::exception& e) {
              std::printf("client error: %s\n", e.what());
            }
            wg.done();
          });
        }
        wg.wait();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ln.close();
        accepting.wait();  // the acceptor is out of ln before ln is destroyed
        std::printf(
            "HTTP/1.1 keep-alive: %ld of %d requests answered \"Hello, World!\" "
            "over %d connections, %.0f requests/s\n",
            ok.load(), kConns * kRequests, kConns, static_cast<double>(ok.load()) / s);
        std::printf(
            "drive it by hand: demo_http --serve 8080, then curl or wrk on "
            "http://127.0.0.1:8080/\n");
        return ok.load() == kConns * kRequests ? 0 : 1;
      },
      {.procs = procs});
}
