// Helpers shared by the Lab 04 grader tests: connected socket pairs, an
// accept loop, the file-descriptor limit, and "is a thread blocked in
// epoll_wait right now?" (read from /proc, so no test has to sleep to know).
#pragma once

#include <dirent.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "gort/gort.hpp"
#include "gort/net.hpp"
#include "gort_grader.hpp"

namespace lab04 {

/// "127.0.0.1:<port>" of @p ln.
inline std::string addr_of(const gort::net::Listener& ln) {
  return "127.0.0.1:" + std::to_string(ln.port());
}

/// A connected pair {dialed end, accepted end} through @p ln. Goroutines only.
inline std::pair<gort::net::Conn, gort::net::Conn> connect_pair(gort::net::Listener& ln) {
  gort::net::Conn client;
  // A channel, not a WaitGroup on this stack frame: the dialer still holds
  // its handle after the send, so this frame may return (and the next call
  // reuse its memory) while the dialer is finishing.
  gort::Chan<int> dialed(1);
  std::string addr = addr_of(ln);
  gort::go([&client, addr, dialed] {
    client = gort::net::dial(addr);
    dialed.send(1);
  });
  gort::net::Conn server = ln.accept();
  dialed.recv();
  return {std::move(client), std::move(server)};
}

/// Starts a goroutine that accepts connections on @p ln and runs
/// handler(conn) in a new goroutine for each, until @p ln is closed. @p done
/// counts the accept loop and every handler: wait on it before main returns,
/// so no goroutine (and no connection it owns) is abandoned.
inline void serve(gort::net::Listener& ln, std::function<void(gort::net::Conn&)> handler,
                  gort::WaitGroup& done) {
  done.add(1);
  gort::go([&ln, &done, handler] {
    for (;;) {
      gort::net::Conn c;
      try {
        c = ln.accept();
      } catch (const gort::net::ClosedError&) {
        break;
      }
      done.add(1);
      gort::go([&done, handler, c = std::move(c)]() mutable {
        handler(c);
        c = gort::net::Conn();  // close before done(): main may return right after
        done.done();
      });
    }
    done.done();
  });
}

/// Echoes everything it reads until end of file or an error.
inline void echo(gort::net::Conn& c) {
  char buf[4096];
  try {
    for (;;) {
      std::size_t n = c.read(buf, sizeof buf);
      if (n == 0) return;
      c.write_all(buf, n);
    }
  } catch (const std::system_error&) {
  }
}

/// Reads exactly @p n bytes (fewer only at end of file); returns them.
inline std::string read_full(gort::net::Conn& c, std::size_t n) {
  std::string s(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    std::size_t r = c.read(s.data() + got, n - got);
    if (r == 0) break;
    got += r;
  }
  s.resize(got);
  return s;
}

/// Raises the soft limit on open files to at least @p need (up to the hard
/// limit); returns false if the hard limit is lower.
inline bool raise_fd_limit(rlim_t need) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= need) return true;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) return false;
  rl.rlim_cur = need;
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/// True if some thread of this process is inside epoll_wait (or
/// epoll_pwait) right now, per /proc/self/task/<tid>/syscall.
inline bool thread_in_epoll_wait() {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/task/") + e->d_name + "/syscall";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    long nr = -1;
    if (std::fscanf(f, "%ld", &nr) == 1) {
#ifdef SYS_epoll_wait
      found |= nr == SYS_epoll_wait;
#endif
      found |= nr == SYS_epoll_pwait;
#ifdef SYS_epoll_pwait2
      found |= nr == SYS_epoll_pwait2;
#endif
    }
    std::fclose(f);
  }
  ::closedir(d);
  return found;
}

}  // namespace lab04
