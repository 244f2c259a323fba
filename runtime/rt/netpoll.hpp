// Lab 04 — the network poller's internal interface: the poll descriptor and
// the functions gort::net (runtime/net/net.cpp) builds on.
//
// One PollDesc per file descriptor. The fd is non-blocking and registered
// with epoll once, edge-triggered, for reading and writing; after that the
// poller never touches epoll_ctl for it again until it is closed. A
// goroutine that gets EAGAIN parks in poll_wait, and netpoll() — called by
// find_runnable, never by a dedicated thread — readies it when epoll says
// the fd changed.
//
// Each direction has one waiter slot (rg for reading, wg for writing) that
// holds one of:
//     kPdNil    nothing happened, nobody waits
//     kPdReady  an event arrived while nobody waited: the next wait returns at once
//     kPdWait   a goroutine is about to park (it set this, then parks)
//     a G*      that goroutine is parked; whoever swaps it out must ready it
// Every change is a compare-and-swap, so the race between "read() returned
// EAGAIN" and "the goroutine is parked" cannot lose the event (see the Lab 04
// handout, "The lost wake-up").
//
// Student tasks (labs/04-netpoll/netpoll.cpp): every function declared below
// except pd_alloc / pd_free / pd_reset_all / poll_ctl, which are provided in
// runtime/rt/pollcache.cpp.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "os/futex_mutex.hpp"
#include "rt/g.hpp"

namespace gort::rt {

/// Waiter-slot states (anything above kPdWait is a parked G*).
inline constexpr std::uintptr_t kPdNil = 0;
inline constexpr std::uintptr_t kPdReady = 1;
inline constexpr std::uintptr_t kPdWait = 2;

/// Why a wait or an operation on a poll descriptor cannot go on.
enum class PollError : std::uint8_t {
  none,     ///< go on
  closing,  ///< poll_evict was called: the fd is being closed
  timeout,  ///< the deadline of that direction has passed
};

/// What the I/O loops (io_read, ...) return besides -errno.
inline constexpr long kErrClosing = -1'000'001;  ///< the fd was closed (PollError::closing)
inline constexpr long kErrTimeout = -1'000'002;  ///< the deadline expired (PollError::timeout)

/// The poller's record of one fd. Allocated from a cache that is never
/// freed (pd_alloc), because an event epoll already returned may still name
/// a descriptor that was just closed: a stale event must hit a live object.
struct PollDesc {
  int fd = -1;                          ///< the registered fd
  std::atomic<std::uintptr_t> rg{0};    ///< reader slot: kPdNil, kPdReady, kPdWait or a G*
  std::atomic<std::uintptr_t> wg{0};    ///< writer slot, likewise
  std::atomic<bool> closing{false};     ///< set by poll_evict; every wait fails from then on
  std::atomic<bool> rd_expired{false};  ///< the read deadline has passed
  std::atomic<bool> wd_expired{false};  ///< the write deadline has passed
  os::FutexMutex lock;       ///< protects the deadline fields below and closing's writers
  std::int64_t rd = 0;       ///< read deadline (nanotime), 0 = none
  std::int64_t wd = 0;       ///< write deadline (nanotime), 0 = none
  std::uint64_t rseq = 0;    ///< bumped whenever rd changes or the fd closes: older timers are void
  std::uint64_t wseq = 0;    ///< likewise for wd
  PollDesc* link = nullptr;  ///< next in the free cache (provided code only)
};

// ---- provided: runtime/rt/pollcache.cpp -----------------------------------

/// A descriptor from the cache (fresh fields, but rseq/wseq keep counting so
/// a timer armed for a previous user of the object stays void).
PollDesc* pd_alloc();
/// Returns @p pd to the cache. It must be unregistered and have no waiter.
void pd_free(PollDesc* pd) noexcept;
/// Runtime teardown: forgets every waiter of every descriptor (the parked
/// goroutines of the finished run no longer exist), and unregisters from
/// @p epfd (if >= 0) and marks closing every descriptor still in use — those
/// of connections abandoned with their goroutines — so a later run can
/// register the same fd again and an abandoned Conn used again says "closed".
void pd_reset_all(int epfd) noexcept;
/// epoll_ctl(2), counted: every registration change the poller makes goes
/// through here, so a test can check "registered once".
int poll_ctl(int epfd, int op, int fd, struct epoll_event* ev) noexcept;
/// How many poll_ctl calls this process made.
std::uint64_t poll_ctl_count() noexcept;

// ---- student: labs/04-netpoll/netpoll.cpp -----------------------------------

/// Task 1. Registers the non-blocking @p fd with the poller (creating the
/// epoll instance and its eventfd on first use): EPOLLIN | EPOLLOUT |
/// EPOLLRDHUP | EPOLLET, once. Throws std::system_error if epoll refuses.
PollDesc* poll_open(int fd);

/// Task 1. Unregisters the fd (it stays open: the caller closes it) and
/// returns @p pd to the cache, voiding its pending deadline timers. No
/// goroutine may be waiting on it.
void poll_close(PollDesc* pd);

/// Task 4. What stops an operation in direction @p mode ('r' or 'w') now:
/// closing first, then that direction's expired deadline.
PollError poll_check(PollDesc* pd, char mode) noexcept;

/// Task 2. Parks the calling goroutine until @p pd is ready for @p mode
/// ('r' or 'w'), or the fd is closed (poll_evict), or the deadline of that
/// direction passes. Returns none when ready (the caller retries its
/// system call). Goroutines only.
PollError poll_wait(PollDesc* pd, char mode);

/// Task 4. Sets the deadline of @p mode ('r', 'w' or 'b' for both) to
/// @p when_ns (nanotime; 0 = no deadline). A deadline in the past expires
/// at once and wakes the waiter; a later one arms a timer that does so then.
/// A wake by I/O that comes before the timer is not a timeout.
void poll_set_deadline(PollDesc* pd, std::int64_t when_ns, char mode);

/// Task 4. The fd is being closed: every present and future wait on @p pd
/// fails with PollError::closing; parked goroutines are readied now.
void poll_evict(PollDesc* pd);

/// Task 5. read(2) on the non-blocking @p fd, parking on EAGAIN: bytes read
/// (0 = end of file), or -errno, kErrClosing, kErrTimeout.
long io_read(PollDesc* pd, int fd, void* buf, std::size_t n);

/// Task 5. send(2) (no SIGPIPE) of at most @p n bytes, parking while the
/// socket buffer is full: bytes written (> 0 when n > 0), or -errno,
/// kErrClosing, kErrTimeout.
long io_write(PollDesc* pd, int fd, const void* buf, std::size_t n);

/// Task 5. accept4(2) a connection (non-blocking, close-on-exec), parking
/// until one arrives: the new fd, or -errno (EMFILE and ENFILE are returned,
/// never retried: retrying at once would spin), kErrClosing, kErrTimeout.
long io_accept(PollDesc* pd, int fd, sockaddr* addr, socklen_t* len);

/// Task 5. connect(2) the registered @p fd, parking until the handshake
/// ends: 0, or -errno (e.g. -ECONNREFUSED), kErrClosing, kErrTimeout.
long io_connect(PollDesc* pd, int fd, const sockaddr* addr, socklen_t len);

/// Test support: how many goroutines are parked in poll_wait right now.
int netpoll_waiters() noexcept;

}  // namespace gort::rt
