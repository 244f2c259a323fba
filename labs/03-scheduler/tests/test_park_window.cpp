// Lab 03 grader — task 3: a parked goroutine becomes visible only after it
// is off its stack.
//
// The bug this catches loses a wake-up or runs one goroutine on two Ms only
// when the timing is unlucky: the channel's lock is released (or the
// goroutine made visible some other way) *before* its context is saved, and
// a partner on another M wakes it inside that window. Instead of waiting for
// luck, the test opens the window on purpose: switch_out_probe (runtime/rt/
// g.hpp) is called by mcall/switch_from while the receiver is still on its
// own stack. There, if the channel's lock is already free, the probe lets a
// sender that is spinning on another P go ahead and hand its value over —
// exactly the interleaving that breaks — and only then lets the receiver
// finish switching out. With the lock still held (the right protocol) the
// sender simply waits for park_m to release it on g0.
#include <atomic>
#include <cstdio>
#include <string>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab03_util.hpp"
#include "rt/chan_core.hpp"
#include "rt/sched.hpp"

namespace {

std::atomic<std::uint64_t> receiver_id{0};
std::atomic<bool> fired{false};
std::atomic<bool> window_open{false};    // the probe found the channel unlocked
std::atomic<bool> receiver_safe{false};  // the probe found the lock held
std::atomic<bool> sender_running{false};
std::atomic<bool> sender_done{false};
gort::detail::ChanCore* watched = nullptr;

inline void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Called on the parking goroutine's own stack, before its context is saved.
void probe(gort::rt::G* gp) {
  if (gp == nullptr || gp->id != receiver_id.load()) return;
  if (gp->wait_reason != gort::WaitReason::chan_receive || fired.exchange(true)) return;
  if (!watched->lock.try_lock()) {
    receiver_safe = true;  // locked until park_m's unlock function runs on g0
    return;
  }
  watched->lock.unlock();
  // The receiver is on recvq and nothing stops a sender: let the one
  // spinning on the other P complete its send now, before we switch out.
  std::fprintf(stderr,
               "probe: goroutine %llu is about to leave its stack, and the channel's lock is "
               "already free; letting the sender on the other P hand over its value now\n",
               static_cast<unsigned long long>(gp->id));
  window_open = true;
  while (!sender_done.load()) relax();
}

}  // namespace

GRADED_TEST("chan: a parked receiver is not visible until it is off its stack", 4,
            "Task 3: unbuffered channels") {
  auto r = lab03::run_in_child([] {
    int got = gort::run(
        [] {
          gort::Chan<int> c;
          static_assert(sizeof(c) == sizeof(gort::detail::ChanCore*));
          watched = *reinterpret_cast<gort::detail::ChanCore* const*>(&c);
          gort::WaitGroup wg;
          wg.add(1);
          gort::go([c, &wg] {
            sender_running = true;
            // Spin (no yield: keep this P) until the receiver is inside the window.
            while (!window_open.load() && !receiver_safe.load()) relax();
            c.send(7);
            sender_done = true;
            wg.done();
          });
          // A second goroutine takes runnext, so the sender sits in the ring,
          // where an idle P's M takes it: the sender then runs on another M.
          gort::go([] {});
          while (!sender_running.load()) relax();
          receiver_id = gort::debug::goroutine_id();
          gort::rt::switch_out_probe.store(probe);
          int v = *c.recv();
          gort::rt::switch_out_probe.store(nullptr);
          wg.wait();
          return v;
        },
        {.procs = 2});
    std::printf("%d\n", got);
  });
  bool window = r.err.find("probe: goroutine") != std::string::npos;
  std::string why =
      window ? "the channel's lock was already free while the receiver was still on its own "
               "stack, so a sender on another M readied it before its context was saved. The "
               "lock must stay held until park_m runs the unlock function (chan_park_unlock) "
               "on g0: never unlock before park()"
             : "a receive that parks on an unbuffered channel, then is woken by a sender on "
               "another M, must return the value sent (7)";
  CHECK_MESSAGE((r.exit_code == 0 && r.out == "7\n"), why, "; the program ended with ", r.how(),
                ", stdout: ", r.out, " stderr:\n", r.err);
}
