// gort::net (provided with Lab 04): addresses, sockets, error messages and
// the Conn/Listener handles, on the poller of rt/netpoll.hpp (the student's
// netpoll.cpp does the parking and the I/O loops).
//
// Closing while another goroutine is inside an operation is the delicate
// part. The fd number must not be closed while a read() may still be about
// to use it (the number could already belong to a new file), so each NetFd
// counts the operations in progress: close() marks it closed and wakes the
// waiters (poll_evict), and whoever drops the count to zero — close() itself,
// or the last woken operation — closes the fd. (Go's fdMutex does the same.)
#include "gort/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "gort/gort.hpp"
#include "rt/netpoll.hpp"
#include "rt/sched.hpp"

namespace gort::net {

TimeoutError::TimeoutError(const std::string& what)
    : std::system_error(std::make_error_code(std::errc::timed_out), what + ": i/o timeout") {}

ClosedError::ClosedError(const std::string& what)
    : std::system_error(std::make_error_code(std::errc::bad_file_descriptor),
                        what + ": use of closed network connection") {}

/// A socket with its poll descriptor. state: bit 31 = closed, the rest =
/// operations in progress (close counts as one while it runs).
struct NetFd {
  int fd = -1;
  rt::PollDesc* pd = nullptr;
  std::atomic<std::uint32_t> state{0};
  std::string laddr, raddr;
  std::uint16_t port = 0;
};

namespace {

constexpr std::uint32_t kClosed = 1u << 31;

void need_goroutine(const char* what) {
  if (rt::current_g() == nullptr) detail::throw_outside_run(what);
}

[[noreturn]] void throw_errno(int e, const std::string& what) {
  throw std::system_error(e, std::system_category(), what);
}

[[noreturn]] void throw_io(long r, const std::string& what) {
  if (r == rt::kErrClosing) throw ClosedError(what);
  if (r == rt::kErrTimeout) throw TimeoutError(what);
  throw_errno(static_cast<int>(-r), what);
}

void destroy(NetFd* nf) noexcept {
  rt::poll_close(nf->pd);
  ::close(nf->fd);
  nf->fd = -1;
  nf->pd = nullptr;
}

/// Starts an operation; false if the NetFd is closed.
bool acquire(NetFd* nf) noexcept {
  std::uint32_t s = nf->state.load();
  do {
    if (s & kClosed) return false;
  } while (!nf->state.compare_exchange_weak(s, s + 1));
  return true;
}

/// Ends an operation; the last one out after close() closes the fd.
void release(NetFd* nf) noexcept {
  if (nf->state.fetch_sub(1) == (kClosed | 1)) destroy(nf);
}

/// RAII for acquire/release.
struct Op {
  NetFd* nf;
  Op(NetFd* f, const char* op, const std::string& addr) : nf(f) {
    if (f == nullptr) throw ClosedError(std::string(op) + " tcp");
    if (!acquire(f)) throw ClosedError(std::string(op) + " tcp " + addr);
  }
  ~Op() { release(nf); }
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;
};

/// Marks @p nf closed and wakes its waiters; false if it already was.
bool close_fd(NetFd* nf) noexcept {
  std::uint32_t s = nf->state.load();
  do {
    if (s & kClosed) return false;
  } while (!nf->state.compare_exchange_weak(s, (s | kClosed) + 1));
  rt::poll_evict(nf->pd);
  release(nf);
  return true;
}

/// "127.0.0.1:80" or "[::1]:80".
std::string format_addr(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
}

std::uint16_t addr_port(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

/// Parses "host:port" into @p out; throws EINVAL naming @p address.
socklen_t parse_addr(std::string_view address, const char* op, bool dialing,
                     sockaddr_storage* out) {
  std::string quoted = std::string(op) + " \"" + std::string(address) + "\"";
  auto bad = [&](const char* why) { throw_errno(EINVAL, quoted + ": " + why); };
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) bad("missing port in address (want host:port)");
  std::string host(address.substr(0, colon));
  std::string_view port_s = address.substr(colon + 1);
  if (port_s.empty() || port_s.size() > 5) bad("invalid port (want 0-65535)");
  unsigned port = 0;
  for (char ch : port_s) {
    if (ch < '0' || ch > '9') bad("invalid port (want 0-65535)");
    port = port * 10 + static_cast<unsigned>(ch - '0');
  }
  if (port > 65535) bad("invalid port (want 0-65535)");
  std::memset(out, 0, sizeof *out);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (host.empty()) host = dialing ? "127.0.0.1" : "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  auto* a4 = reinterpret_cast<sockaddr_in*>(out);
  if (!bracketed && ::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<std::uint16_t>(port));
    return sizeof(sockaddr_in);
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(out);
  if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    if (!bracketed) bad("an IPv6 address needs brackets, as in [::1]:80");
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<std::uint16_t>(port));
    return sizeof(sockaddr_in6);
  }
  bad("unknown host (use an IP address or localhost)");
  return 0;
}

/// A non-blocking TCP socket registered with the poller.
NetFd* new_socket(int family, const std::string& what) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(errno, what);
  auto* nf = new NetFd;
  nf->fd = fd;
  try {
    nf->pd = rt::poll_open(fd);
  } catch (...) {
    ::close(fd);
    delete nf;
    throw;
  }
  return nf;
}

void fill_addrs(NetFd* nf) {
  sockaddr_storage ss{};
  socklen_t l = sizeof ss;
  if (::getsockname(nf->fd, reinterpret_cast<sockaddr*>(&ss), &l) == 0) {
    nf->laddr = format_addr(ss);
    nf->port = addr_port(ss);
  }
  l = sizeof ss;
  if (::getpeername(nf->fd, reinterpret_cast<sockaddr*>(&ss), &l) == 0) nf->raddr = format_addr(ss);
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as Go: no Nagle delay
}

std::int64_t to_nanotime(Clock::time_point t) {
  if (t == kNoDeadline) return 0;
  // steady_clock is CLOCK_MONOTONIC on Linux, the clock of rt::nanotime.
  std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return ns <= 0 ? 1 : ns;
}

void set_deadline(NetFd* nf, Clock::time_point t, char mode) {
  need_goroutine("net::Conn::set_deadline");
  Op op(nf, "set deadline", nf ? nf->laddr : std::string());
  rt::poll_set_deadline(nf->pd, to_nanotime(t), mode);
}

}  // namespace

// ---- Conn ----------------------------------------------------------------

Conn::~Conn() {
  if (fd_ == nullptr) return;
  close_fd(fd_);
  // Operations still inside would be a use after free: the owner must not
  // destroy a Conn that other goroutines still use (as with any object).
  delete fd_;
}

Conn::Conn(Conn&& o) noexcept : fd_(o.fd_) { o.fd_ = nullptr; }

Conn& Conn::operator=(Conn&& o) noexcept {
  if (this != &o) {
    Conn old(std::move(*this));
    fd_ = o.fd_;
    o.fd_ = nullptr;
  }
  return *this;
}

std::size_t Conn::read(void* buf, std::size_t n) {
  need_goroutine("net::Conn::read");
  Op op(fd_, "read", fd_ ? fd_->raddr : std::string());
  long r = rt::io_read(fd_->pd, fd_->fd, buf, n);
  if (r < 0) throw_io(r, "read tcp " + fd_->raddr);
  return static_cast<std::size_t>(r);
}

std::size_t Conn::write(const void* buf, std::size_t n) {
  need_goroutine("net::Conn::write");
  Op op(fd_, "write", fd_ ? fd_->raddr : std::string());
  if (n == 0) return 0;
  long r = rt::io_write(fd_->pd, fd_->fd, buf, n);
  if (r < 0) throw_io(r, "write tcp " + fd_->raddr);
  return static_cast<std::size_t>(r);
}

void Conn::write_all(const void* buf, std::size_t n) {
  const char* p = static_cast<const char*>(buf);
  while (n > 0) {
    std::size_t w = write(p, n);
    p += w;
    n -= w;
  }
}

void Conn::close() {
  if (fd_ == nullptr || !close_fd(fd_)) {
    throw ClosedError("close tcp " + (fd_ ? fd_->raddr : std::string()));
  }
}

void Conn::set_deadline(Clock::time_point t) { net::set_deadline(fd_, t, 'b'); }
void Conn::set_read_deadline(Clock::time_point t) { net::set_deadline(fd_, t, 'r'); }
void Conn::set_write_deadline(Clock::time_point t) { net::set_deadline(fd_, t, 'w'); }

namespace {
const std::string kEmpty;
}

const std::string& Conn::local_addr() const { return fd_ ? fd_->laddr : kEmpty; }
const std::string& Conn::remote_addr() const { return fd_ ? fd_->raddr : kEmpty; }

// ---- Listener ----------------------------------------------------------------

Listener::~Listener() {
  if (fd_ == nullptr) return;
  close_fd(fd_);
  delete fd_;
}

Listener::Listener(Listener&& o) noexcept : fd_(o.fd_) { o.fd_ = nullptr; }

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    Listener old(std::move(*this));
    fd_ = o.fd_;
    o.fd_ = nullptr;
  }
  return *this;
}

Conn Listener::accept() {
  need_goroutine("net::Listener::accept");
  Op op(fd_, "accept", fd_ ? fd_->laddr : std::string());
  sockaddr_storage ss{};
  socklen_t l = sizeof ss;
  long r = rt::io_accept(fd_->pd, fd_->fd, reinterpret_cast<sockaddr*>(&ss), &l);
  if (r < 0) throw_io(r, "accept tcp " + fd_->laddr);
  int c = static_cast<int>(r);
  set_nodelay(c);
  auto* nf = new NetFd;
  nf->fd = c;
  try {
    nf->pd = rt::poll_open(c);
  } catch (...) {
    ::close(c);
    delete nf;
    throw;
  }
  fill_addrs(nf);
  return Conn(nf);
}

void Listener::close() {
  if (fd_ == nullptr || !close_fd(fd_)) {
    throw ClosedError("close tcp " + (fd_ ? fd_->laddr : std::string()));
  }
}

std::uint16_t Listener::port() const { return fd_ ? fd_->port : 0; }
const std::string& Listener::addr() const { return fd_ ? fd_->laddr : kEmpty; }

// ---- listen, dial, wait ----------------------------------------------------

Listener listen(std::string_view address) {
  need_goroutine("net::listen");
  sockaddr_storage ss;
  socklen_t len = parse_addr(address, "listen", false, &ss);
  std::string what = "listen tcp " + std::string(address);
  NetFd* nf = new_socket(ss.ss_family, what);
  Listener ln(nf);  // closes the socket if anything below throws
  int one = 1;
  ::setsockopt(nf->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6) ::setsockopt(nf->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(nf->fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) throw_errno(errno, what);
  if (::listen(nf->fd, 4096) != 0) throw_errno(errno, what);
  fill_addrs(nf);
  return ln;
}

Conn dial(std::string_view address) {
  need_goroutine("net::dial");
  sockaddr_storage ss;
  socklen_t len = parse_addr(address, "dial", true, &ss);
  std::string what = "dial tcp " + std::string(address);
  NetFd* nf = new_socket(ss.ss_family, what);
  Conn c(nf);  // closes the socket if anything below throws
  long r = rt::io_connect(nf->pd, nf->fd, reinterpret_cast<sockaddr*>(&ss), len);
  if (r < 0) throw_io(r, what);
  set_nodelay(nf->fd);
  fill_addrs(nf);
  return c;
}

namespace {
void wait_fd(int fd, char mode, const char* what) {
  need_goroutine(what);
  rt::PollDesc* pd = rt::poll_open(fd);
  rt::PollError e = rt::poll_wait(pd, mode);
  rt::poll_close(pd);
  if (e != rt::PollError::none)
    throw_io(rt::kErrClosing, what);  // not reachable: no deadline, no close
}
}  // namespace

void wait_readable(int fd) { wait_fd(fd, 'r', "net::wait_readable"); }
void wait_writable(int fd) { wait_fd(fd, 'w', "net::wait_writable"); }

}  // namespace gort::net
