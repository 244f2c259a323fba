// Default network-poller hooks (see runtime/rt/hooks.hpp). Lab 04 will move
// this into the student's lab folder, where netpoll() becomes a real epoll
// poller. Until then no goroutine ever waits for I/O, so: nothing is ready,
// nobody waits, and there is nothing to interrupt.
#include "rt/hooks.hpp"

namespace gort::rt {

G* netpoll(bool, std::int64_t) { return nullptr; }

bool netpoll_has_waiters() noexcept { return false; }

void netpoll_break() noexcept {}

}  // namespace gort::rt
