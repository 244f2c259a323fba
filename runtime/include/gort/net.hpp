// gort::net — TCP networking for goroutines (Lab 04): what Go's net package
// offers for TCP, on gort's network poller.
//
//     gort::run([] {
//       auto ln = gort::net::listen("127.0.0.1:0");
//       gort::go([port = ln.port()] {
//         auto c = gort::net::dial("127.0.0.1:" + std::to_string(port));
//         c.write_all("hi", 2);
//       });
//       auto c = ln.accept();
//       char buf[2];
//       c.read(buf, 2);
//     });
//
// Every call that would block parks the calling goroutine, never its thread:
// the socket is non-blocking, and the poller readies the goroutine when the
// socket is ready. A goroutine per connection is the intended style.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace gort::net {

/// The clock deadlines are given in.
using Clock = std::chrono::steady_clock;

/// "No deadline": pass it to a set_*_deadline call to clear the deadline.
inline constexpr Clock::time_point kNoDeadline{};

/// Thrown when an operation's deadline passed before it could complete
/// (Go's os.ErrDeadlineExceeded). code() is std::errc::timed_out. The
/// connection stays usable: set a later deadline and try again.
class TimeoutError : public std::system_error {
 public:
  /// @param what the operation and address, e.g. "read tcp 127.0.0.1:5000"
  explicit TimeoutError(const std::string& what);
};

/// Thrown when a Conn or Listener is used after close() — including by a
/// goroutine that was blocked in it when another goroutine closed it. what()
/// contains "use of closed network connection" (Go's net.ErrClosed);
/// code() is std::errc::bad_file_descriptor.
class ClosedError : public std::system_error {
 public:
  /// @param what the operation and address, e.g. "read tcp 127.0.0.1:5000"
  explicit ClosedError(const std::string& what);
};

struct NetFd;  // internal: a socket, its poll descriptor and its use count

/// A TCP connection. Move-only; the destructor closes it. Any goroutine may
/// call any member; one reader and one writer may block at the same time,
/// and close() from a third goroutine wakes both (they throw ClosedError).
/// Errors are std::system_error carrying the errno (ECONNRESET when the
/// peer reset the connection — never reported as end of file).
class Conn {
 public:
  /// An empty Conn (not connected); every operation throws ClosedError.
  Conn() noexcept = default;
  /// Closes the connection if still open (errors ignored).
  ~Conn();
  /// Takes over @p o's connection; @p o becomes empty.
  Conn(Conn&& o) noexcept;
  /// Closes this connection (if open), then takes over @p o's.
  Conn& operator=(Conn&& o) noexcept;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  /// Reads up to @p n bytes into @p buf, parking until at least one byte is
  /// there. Returns the number read, 0 only at end of file (the peer closed
  /// its side). Throws TimeoutError, ClosedError or std::system_error.
  std::size_t read(void* buf, std::size_t n);

  /// Writes at least one and at most @p n bytes of @p buf (if n > 0),
  /// parking while the socket buffer is full; returns how many. Throws like
  /// read (EPIPE/ECONNRESET once the peer is gone; never SIGPIPE).
  std::size_t write(const void* buf, std::size_t n);

  /// Writes all @p n bytes of @p buf (write() until done). On an error some
  /// prefix may have been written.
  void write_all(const void* buf, std::size_t n);

  /// Closes the connection and wakes goroutines blocked in it. Throws
  /// ClosedError if it was already closed.
  void close();

  /// Sets the read and the write deadline (kNoDeadline clears them). An
  /// operation blocked or started after @p t throws TimeoutError; one that
  /// completes before it is unaffected. May be called while another goroutine
  /// is blocked, and moves its deadline.
  void set_deadline(Clock::time_point t);
  /// Sets the read deadline only (see set_deadline).
  void set_read_deadline(Clock::time_point t);
  /// Sets the write deadline only (see set_deadline).
  void set_write_deadline(Clock::time_point t);

  /// This end's address, "127.0.0.1:41234" or "[::1]:41234".
  const std::string& local_addr() const;
  /// The peer's address, in the same form.
  const std::string& remote_addr() const;

  /// True if this Conn holds a connection (open or closed, not moved from).
  explicit operator bool() const noexcept { return fd_ != nullptr; }

 private:
  friend class Listener;
  friend Conn dial(std::string_view address);
  explicit Conn(NetFd* fd) noexcept : fd_(fd) {}
  NetFd* fd_ = nullptr;
};

/// A listening TCP socket. Move-only; the destructor closes it.
class Listener {
 public:
  /// An empty Listener; accept() throws ClosedError.
  Listener() noexcept = default;
  /// Closes the listener if still open.
  ~Listener();
  /// Takes over @p o's socket; @p o becomes empty.
  Listener(Listener&& o) noexcept;
  /// Closes this listener (if open), then takes over @p o's socket.
  Listener& operator=(Listener&& o) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Parks until a connection arrives and returns it. Throws ClosedError
  /// after close() (which wakes a blocked accept), and std::system_error for
  /// EMFILE/ENFILE (out of file descriptors: reported, never retried in a loop).
  Conn accept();

  /// Closes the socket and wakes a goroutine blocked in accept(). Throws
  /// ClosedError if already closed.
  void close();

  /// The port it listens on (the one the OS chose for port 0).
  std::uint16_t port() const;
  /// The address it listens on, e.g. "127.0.0.1:41234" or "[::1]:41234".
  const std::string& addr() const;

 private:
  friend Listener listen(std::string_view address);
  explicit Listener(NetFd* fd) noexcept : fd_(fd) {}
  NetFd* fd_ = nullptr;
};

/// Listens on @p address, "host:port": host is an IPv4 literal, an IPv6
/// literal in brackets ("[::1]:0"), "localhost" (127.0.0.1) or empty (every
/// IPv4 address); port 0 picks a free port. Throws std::system_error naming
/// @p address: EINVAL for a malformed address, EADDRINUSE for a port in use.
/// Goroutines only (std::logic_error elsewhere, like the rest of gort).
Listener listen(std::string_view address);

/// Connects to @p address (same syntax as listen; an empty host is
/// 127.0.0.1), parking until the handshake ends. Throws std::system_error
/// naming @p address, e.g. ECONNREFUSED. Goroutines only.
Conn dial(std::string_view address);

/// Parks the calling goroutine until the non-blocking @p fd (a pipe, an
/// eventfd, a socket not owned by gort::net) is readable, or has hung up.
/// Registers @p fd with the poller for the duration of the call (two
/// epoll_ctl calls), so use Conn for sockets you read often. Goroutines only.
void wait_readable(int fd);

/// Like wait_readable, until @p fd is writable.
void wait_writable(int fd);

}  // namespace gort::net
