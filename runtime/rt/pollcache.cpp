// The poll-descriptor cache and the counted epoll_ctl (provided with Lab 04;
// see rt/netpoll.hpp).
//
// Descriptors are never freed: epoll may hand back an event for an fd that
// another goroutine has just closed, and that event's pointer must still
// point at a PollDesc. A reused descriptor at worst gets a spurious "ready",
// which costs its next user one extra EAGAIN. (Go's pollCache does the same
// and tags events with a sequence number to drop even those.)
#include <sys/epoll.h>

#include <mutex>
#include <vector>

#include "rt/netpoll.hpp"

namespace gort::rt {

namespace {

os::FutexMutex cache_lock;
PollDesc* cache_free = nullptr;
std::vector<PollDesc*>* cache_all = nullptr;  // every descriptor ever made (for reset)
std::atomic<std::uint64_t> ctl_calls{0};

}  // namespace

PollDesc* pd_alloc() {
  std::lock_guard<os::FutexMutex> lk(cache_lock);
  PollDesc* pd = cache_free;
  if (pd) {
    cache_free = pd->link;
  } else {
    if (cache_all == nullptr) cache_all = new std::vector<PollDesc*>;
    pd = new PollDesc;
    cache_all->push_back(pd);
  }
  pd->link = nullptr;
  pd->fd = -1;
  pd->rg.store(kPdNil);
  pd->wg.store(kPdNil);
  pd->closing.store(false);
  pd->rd_expired.store(false);
  pd->wd_expired.store(false);
  pd->rd = pd->wd = 0;
  return pd;
}

void pd_free(PollDesc* pd) noexcept {
  std::lock_guard<os::FutexMutex> lk(cache_lock);
  pd->fd = -1;
  pd->link = cache_free;
  cache_free = pd;
}

void pd_reset_all(int epfd) noexcept {
  std::lock_guard<os::FutexMutex> lk(cache_lock);
  if (cache_all == nullptr) return;
  for (PollDesc* pd : *cache_all) {
    pd->rg.store(kPdNil);
    pd->wg.store(kPdNil);
    std::lock_guard<os::FutexMutex> pl(pd->lock);
    ++pd->rseq;
    ++pd->wseq;
    if (pd->fd >= 0) {  // in use: its owner was abandoned with the run
      if (epfd >= 0) ::epoll_ctl(epfd, EPOLL_CTL_DEL, pd->fd, nullptr);
      pd->closing.store(true);
    }
  }
}

int poll_ctl(int epfd, int op, int fd, struct epoll_event* ev) noexcept {
  ctl_calls.fetch_add(1, std::memory_order_relaxed);
  return ::epoll_ctl(epfd, op, fd, ev);
}

std::uint64_t poll_ctl_count() noexcept { return ctl_calls.load(std::memory_order_relaxed); }

}  // namespace gort::rt
