// Lab 04 — the network poller: poll descriptors on edge-triggered epoll,
// parking goroutines on EAGAIN, netpoll() for find_runnable, deadlines, and
// the I/O loops gort::net is built on.
//
// Read rt/netpoll.hpp first: it declares every function of this file with
// its contract, and the PollDesc with its waiter slots. The handout
// (labs/04-netpoll/README.md) explains the states and the lost wake-up.
//
// Until you write them, netpoll(), netpoll_has_waiters() and
// netpoll_break() behave as if no goroutine ever waited for I/O, so Labs
// 01-03 keep working; everything else throws NotImplemented naming its task.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>

#include "gort/gort.hpp"
#include "not_implemented.hpp"
#include "rt/hooks.hpp"
#include "rt/netpoll.hpp"
#include "rt/sched.hpp"
#include "rt/timers.hpp"

namespace gort::rt {

namespace {

// Suggested state (keep it, change it, as you like):
[[maybe_unused]] int epfd = -1;     // the epoll instance (one per process, made on first use)
[[maybe_unused]] int breakfd = -1;  // eventfd that netpoll_break writes
std::atomic<int> waiters{0};        // goroutines parked in poll_wait

}  // namespace

// ---- Task 1: registration --------------------------------------------------

PollDesc* poll_open(int fd) {
  // TODO(lab 04, task 1): on first use (std::call_once) create the epoll
  // instance and an eventfd registered for EPOLLIN (netpoll_break writes it).
  // Then take a PollDesc (pd_alloc), register fd once with
  // EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET and data.ptr = pd, through
  // poll_ctl (counted). Throw std::system_error if epoll refuses.
  (void)fd;
  throw NotImplemented("lab 04 task 1: poll_open");
}

void poll_close(PollDesc* pd) {
  // TODO(lab 04, task 1): EPOLL_CTL_DEL (poll_ctl), void pending deadline
  // timers (bump rseq and wseq under pd->lock), pd_free.
  (void)pd;
  throw NotImplemented("lab 04 task 1: poll_close");
}

void netpoll_break() noexcept {
  // TODO(lab 04, task 1): write 1 to the eventfd (once: a flag saying a
  // break is pending saves the system call), so a netpoll(true) returns.
  // Until then: nothing to interrupt.
}

// ---- Task 2: park and unpark -------------------------------------------------

PollError poll_wait(PollDesc* pd, char mode) {
  // TODO(lab 04, task 2): Go's netpollblock. CAS the slot kPdReady -> kPdNil
  // (return: ready) or kPdNil -> kPdWait; re-check poll_check; park with an
  // unlock function that CASes kPdWait -> the G (and counts a waiter) — if
  // that CAS fails an event came in between, and the goroutine resumes at
  // once. After waking, exchange the slot to kPdNil: kPdReady means ready;
  // anything else, look at poll_check and wait again if it says none.
  (void)pd;
  (void)mode;
  throw NotImplemented("lab 04 task 2: poll_wait");
}

// ---- Task 3: netpoll -------------------------------------------------------

G* netpoll(bool block, std::int64_t until_ns) {
  // TODO(lab 04, task 3): epoll_wait (timeout 0 if !block; -1 if until_ns
  // is INT64_MAX; else until_ns - nanotime() rounded up to milliseconds).
  // For each event: the eventfd -> drain it and clear the break flag; a
  // PollDesc -> readiness for 'r' (EPOLLIN|EPOLLRDHUP|EPOLLHUP|EPOLLERR)
  // and/or 'w' (EPOLLOUT|EPOLLHUP|EPOLLERR): store kPdReady in the slot and
  // take the parked G out of it, if any (each G exactly once). Return those
  // Gs, runnable, chained through schedlink.
  // Until then: nothing is ever ready.
  (void)block;
  (void)until_ns;
  return nullptr;
}

bool netpoll_has_waiters() noexcept {
  // TODO(lab 04, task 3): are goroutines parked in poll_wait?
  // Until then: nobody waits.
  return false;
}

// ---- Task 4: deadlines and close ---------------------------------------------

PollError poll_check(PollDesc* pd, char mode) noexcept {
  // TODO(lab 04, task 4): closing, else that direction's expired deadline, else none.
  (void)pd;
  (void)mode;
  not_implemented_abort("lab 04 task 4: poll_check");
}

void poll_set_deadline(PollDesc* pd, std::int64_t when_ns, char mode) {
  // TODO(lab 04, task 4): under pd->lock, for each direction of mode: store
  // the deadline, bump its seq, set expired if when_ns is in the past (and
  // wake the waiter: slot -> kPdNil, ready its G). A future deadline: start
  // a goroutine that sleeps until then (timer_sleep_until) and, if the seq
  // did not change, marks the direction expired and wakes the waiter.
  (void)pd;
  (void)when_ns;
  (void)mode;
  throw NotImplemented("lab 04 task 4: poll_set_deadline");
}

void poll_evict(PollDesc* pd) {
  // TODO(lab 04, task 4): under pd->lock set closing and void the timers;
  // take both parked Gs out of their slots; ready them (after the lock).
  (void)pd;
  throw NotImplemented("lab 04 task 4: poll_evict");
}

// ---- Task 5: the I/O loops ---------------------------------------------------

long io_read(PollDesc* pd, int fd, void* buf, std::size_t n) {
  // TODO(lab 04, task 5): poll_check; then read(2) until it returns >= 0
  // (0 is end of file) or a real error (-errno); EINTR -> again; EAGAIN ->
  // poll_wait(pd, 'r') and again (kErrClosing / kErrTimeout if it fails).
  (void)pd;
  (void)fd;
  (void)buf;
  (void)n;
  throw NotImplemented("lab 04 task 5: io_read");
}

long io_write(PollDesc* pd, int fd, const void* buf, std::size_t n) {
  // TODO(lab 04, task 5): as io_read, with send(..., MSG_NOSIGNAL) and 'w'.
  (void)pd;
  (void)fd;
  (void)buf;
  (void)n;
  throw NotImplemented("lab 04 task 5: io_write");
}

long io_accept(PollDesc* pd, int fd, sockaddr* addr, socklen_t* len) {
  // TODO(lab 04, task 5): accept4(SOCK_NONBLOCK | SOCK_CLOEXEC); EINTR and
  // ECONNABORTED -> again; EAGAIN -> wait 'r'; EMFILE/ENFILE -> return them.
  (void)pd;
  (void)fd;
  (void)addr;
  (void)len;
  throw NotImplemented("lab 04 task 5: io_accept");
}

long io_connect(PollDesc* pd, int fd, const sockaddr* addr, socklen_t len) {
  // TODO(lab 04, task 5): connect(2); EINPROGRESS -> wait 'w', then
  // SO_ERROR: 0 and getpeername succeeds -> connected; ENOTCONN -> the
  // "writable" was stale, wait again; an error -> -error.
  (void)pd;
  (void)fd;
  (void)addr;
  (void)len;
  throw NotImplemented("lab 04 task 5: io_connect");
}

// ---- provided ----------------------------------------------------------------

void netpoll_reset() noexcept {
  pd_reset_all(epfd);
  waiters.store(0);
}

int netpoll_waiters() noexcept { return waiters.load(); }

}  // namespace gort::rt
