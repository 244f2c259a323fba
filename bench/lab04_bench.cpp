// Lab 04 benchmark: the echo server's CPU time per round trip, side by side
// in one run — gort's (a goroutine per connection, 1 P) with the integrated
// poller and with the seed's dedicated poller thread (GORT_NETPOLL=thread),
// Go's (GOMAXPROCS=1) and a bare single-threaded edge-triggered epoll server
// in C style (the floor: no runtime at all). Beside CPU and throughput it
// reports the server's context switches per round trip, its threads, and
// the round-trip latency (p50, p99) the client saw.
//
//   lab04_bench                      the driver: every server, BENCH_REPS times
//                                    (default 3), medians; prints
//                                    `figure value unit` lines and ratios
//   lab04_bench server-gort|server-c one server, prints its port, runs until killed
//
// Each server is pinned to CPU 0; the load client — the driver itself, a
// plain epoll loop, not written on gort — is pinned to CPU 1. The client
// keeps 200 connections busy with 64-byte messages for BENCH_SECONDS
// (default 2) seconds. On 2 cores the client and the kernel's loopback bound
// the throughput, so the figure that compares the servers is CPU time
// (user + system, /proc/<pid>/stat) per round trip. Loopback only.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gort/gort.hpp>
#include <gort/net.hpp>

#ifndef GORT_BENCH_GO_ECHO
#define GORT_BENCH_GO_ECHO "-"
#endif

namespace {

constexpr int kConns = 200;
constexpr int kSize = 64;

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof set, &set);  // best effort: on 1 CPU both share it
}

int listen_any() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  socklen_t l = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  std::printf("%d\n", ntohs(a.sin_port));
  std::fflush(stdout);
  return fd;
}

/// The floor: one thread, edge-triggered epoll, read until EAGAIN, echo.
[[noreturn]] void server_c() {
  int lfd = listen_any();
  int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  epoll_event evs[256];
  char buf[4096];
  for (;;) {
    int n = ::epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          int one = 1;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event ce{};
          ce.events = EPOLLIN | EPOLLET;
          ce.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r > 0) {
          ssize_t off = 0;  // 64-byte echoes fit the socket buffer: no write wait needed
          while (off < r) {
            ssize_t w = ::send(fd, buf + off, static_cast<std::size_t>(r - off), MSG_NOSIGNAL);
            if (w <= 0) break;
            off += w;
          }
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) ::close(fd);
        break;
      }
    }
  }
}

/// gort: a goroutine per connection on one P, public API only.
[[noreturn]] void server_gort() {
  gort::run(
      [] {
        auto ln = gort::net::listen("127.0.0.1:0");
        std::printf("%d\n", ln.port());
        std::fflush(stdout);
        for (;;) {
          gort::go([c = ln.accept()]() mutable {
            char buf[4096];
            try {
              while (std::size_t n = c.read(buf, sizeof buf)) c.write_all(buf, n);
            } catch (const std::system_error&) {
            }
          });
        }
      },
      {.procs = 1});
  std::exit(0);
}

struct Server {
  pid_t pid = -1;
  int port = 0;
};

/// Starts @p argv pinned to CPU 0 and reads the port it prints.
Server start(const std::vector<std::string>& args, const char* netpoll_mode) {
  int out[2];
  if (::pipe(out) != 0) std::exit(1);
  pid_t pid = ::fork();
  if (pid == 0) {
    pin(0);
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    ::setenv("GOMAXPROCS", "1", 1);
    ::setenv("GORT_NETPOLL", netpoll_mode, 1);
    std::vector<char*> av;
    for (auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    ::execv(av[0], av.data());
    std::perror("execv");
    ::_exit(127);
  }
  ::close(out[1]);
  char line[32] = {0};
  ssize_t n = ::read(out[0], line, sizeof line - 1);
  ::close(out[0]);
  Server s;
  s.pid = pid;
  s.port = n > 0 ? std::atoi(line) : 0;
  return s;
}

/// utime + stime of @p pid in seconds.
double cpu_of(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  char buf[1024];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  unsigned long ut = 0, st = 0;
  // after ") ": state(3) ... utime is field 14, stime 15
  std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
  return static_cast<double>(ut + st) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Voluntary + involuntary context switches and threads of @p pid.
void switches_of(pid_t pid, double* ctx, int* threads) {
  *ctx = 0;
  *threads = 0;
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    long v = 0;
    if (std::sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1) *ctx += static_cast<double>(v);
    if (std::sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
      *ctx += static_cast<double>(v);
    if (std::sscanf(line, "Threads: %ld", &v) == 1) *threads = static_cast<int>(v);
  }
  std::fclose(f);
}

/// The load client: kConns connections, each sending kSize bytes and
/// waiting for them back, for @p seconds. Returns the round trips; each
/// round trip's latency (µs) goes to @p lat.
long run_client(int port, double seconds, std::vector<float>* lat) {
  using clk = std::chrono::steady_clock;
  std::vector<clk::time_point> sent(kConns);
  int ep = ::epoll_create1(0);
  std::vector<int> got(kConns, 0);
  std::vector<int> fds;
  char msg[kSize];
  std::memset(msg, 'x', sizeof msg);
  for (int i = 0; i < kConns; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds.push_back(fd);
  }
  auto stop = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (int i = 0; i < kConns; ++i) {
    sent[i] = clk::now();
    ::send(fds[i], msg, sizeof msg, MSG_NOSIGNAL);
  }
  long trips = 0;
  epoll_event evs[256];
  char buf[4096];
  while (std::chrono::steady_clock::now() < stop) {
    int n = ::epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < n; ++i) {
      int k = static_cast<int>(evs[i].data.u32);
      ssize_t r = ::read(fds[k], buf, sizeof buf);
      if (r <= 0) continue;
      got[k] += static_cast<int>(r);
      while (got[k] >= kSize) {
        got[k] -= kSize;
        ++trips;
        auto now = clk::now();
        lat->push_back(std::chrono::duration<float, std::micro>(now - sent[k]).count());
        sent[k] = now;
        ::send(fds[k], msg, sizeof msg, MSG_NOSIGNAL);
      }
    }
  }
  for (int fd : fds) ::close(fd);
  ::close(ep);
  return trips;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "server-c") == 0) server_c();
  if (argc > 1 && std::strcmp(argv[1], "server-gort") == 0) server_gort();
  ::signal(SIGPIPE, SIG_IGN);
  int reps = std::getenv("BENCH_REPS") ? std::atoi(std::getenv("BENCH_REPS")) : 3;
  double secs = std::getenv("BENCH_SECONDS") ? std::atof(std::getenv("BENCH_SECONDS")) : 2.0;
  struct Impl {
    const char* name;
    std::vector<std::string> args;
    const char* netpoll_mode;
    std::vector<double> rtps, cpu_us, ctx_per_rt, p50, p99;
    int threads = 0;
  };
  std::string self = "/proc/self/exe";
  char exe[4096];
  ssize_t el = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (el > 0) self.assign(exe, static_cast<std::size_t>(el));
  std::vector<Impl> impls = {{"c", {self, "server-c"}, "integrated", {}, {}, {}, {}, {}},
                             {"gort", {self, "server-gort"}, "integrated", {}, {}, {}, {}, {}},
                             {"gort_thread", {self, "server-gort"}, "thread", {}, {}, {}, {}, {}}};
  if (std::string(GORT_BENCH_GO_ECHO) != "-" && ::access(GORT_BENCH_GO_ECHO, X_OK) == 0) {
    impls.push_back({"go", {GORT_BENCH_GO_ECHO}, "integrated", {}, {}, {}, {}, {}});
  } else {
    std::printf("# go: not built (no go toolchain): measuring gort and the C floor only\n");
  }
  pin(1);
  std::printf(
      "# echo: %d connections, %d-byte messages, %.1f s per run, %d runs; server on CPU 0, "
      "client on CPU 1\n",
      kConns, kSize, secs, reps);
  for (int r = 0; r < reps; ++r) {
    for (auto& im : impls) {
      Server s = start(im.args, im.netpoll_mode);
      if (s.port == 0) {
        std::printf("# %s: the server did not start\n", im.name);
        continue;
      }
      double c0 = cpu_of(s.pid), x0 = 0;
      int th = 0;
      switches_of(s.pid, &x0, &th);
      auto t0 = std::chrono::steady_clock::now();
      std::vector<float> lat;
      lat.reserve(1 << 20);
      long trips = run_client(s.port, secs, &lat);
      double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double c1 = cpu_of(s.pid), x1 = 0;
      switches_of(s.pid, &x1, &th);
      im.threads = th;
      ::kill(s.pid, SIGKILL);
      ::waitpid(s.pid, nullptr, 0);
      if (trips == 0) continue;
      im.rtps.push_back(static_cast<double>(trips) / wall);
      im.cpu_us.push_back((c1 - c0) * 1e6 / static_cast<double>(trips));
      im.ctx_per_rt.push_back((x1 - x0) / static_cast<double>(trips));
      std::sort(lat.begin(), lat.end());
      im.p50.push_back(lat[lat.size() / 2]);
      im.p99.push_back(lat[lat.size() * 99 / 100]);
    }
  }
  double c_cpu = 0, go_cpu = 0, gort_cpu = 0, go_rtps = 0, gort_rtps = 0, thr_cpu = 0, thr_rtps = 0;
  for (auto& im : impls) {
    double rt = median(im.rtps), cpu = median(im.cpu_us);
    std::printf("echo_rtps_%s %.0f round_trips/s\n", im.name, rt);
    std::printf("echo_cpu_%s %.2f us/round_trip\n", im.name, cpu);
    std::printf("echo_ctxsw_%s %.3f switches/round_trip\n", im.name, median(im.ctx_per_rt));
    std::printf("echo_threads_%s %d threads\n", im.name, im.threads);
    std::printf("echo_p50_%s %.1f us\n", im.name, median(im.p50));
    std::printf("echo_p99_%s %.1f us\n", im.name, median(im.p99));
    if (std::strcmp(im.name, "c") == 0) c_cpu = cpu;
    if (std::strcmp(im.name, "go") == 0) go_cpu = cpu, go_rtps = rt;
    if (std::strcmp(im.name, "gort") == 0) gort_cpu = cpu, gort_rtps = rt;
    if (std::strcmp(im.name, "gort_thread") == 0) thr_cpu = cpu, thr_rtps = rt;
  }
  if (c_cpu > 0) {
    std::printf("# echo_cpu gort/c %.2fx (target <= 1.05x)\n", gort_cpu / c_cpu);
    if (go_cpu > 0) std::printf("# echo_cpu go/c %.2fx\n", go_cpu / c_cpu);
  }
  if (gort_cpu > 0 && thr_rtps > 0) {
    std::printf("# poller thread vs integrated: cpu %.2fx, round trips/s %.2fx\n",
                thr_cpu / gort_cpu, thr_rtps / gort_rtps);
  }
  if (go_rtps > 0) std::printf("# echo_rtps gort/go %.2fx (target >= 1x)\n", gort_rtps / go_rtps);
  return 0;
}
