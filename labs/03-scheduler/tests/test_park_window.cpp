// Lab 03 grader — task 3: a parked goroutine becomes visible only after it
// is off its stack.
//
// The bug this catches loses a wake-up or runs one goroutine on two Ms only
// when the timing is unlucky: the channel's lock is released (or the
// goroutine made visible some other way) *before* its context is saved, and
// a partner on another M wakes it inside that window. Instead of waiting for
// luck, the test opens the window on purpose: switch_out_probe (runtime/rt/
// g.hpp) is called by mcall/switch_from while the parking goroutine (a
// receiver, then a sender) is still on its own stack. There, if the
// channel's lock is already free, the probe lets the partner spinning on
// the other P complete its operation and ready the parked goroutine —
// exactly the interleaving that breaks — and only then lets it finish
// switching out. With the lock still held (the right protocol) the partner
// simply waits for park_m to release it on g0.
#include <atomic>
#include <cstdio>
#include <string>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab03_util.hpp"
#include "rt/chan_core.hpp"
#include "rt/sched.hpp"

namespace {

std::atomic<std::uint64_t> parker_id{0};  // the goroutine whose park is probed
gort::WaitReason parker_reason = gort::WaitReason::chan_receive;
std::atomic<bool> fired{false};
std::atomic<bool> window_open{false};  // the probe found the channel unlocked
std::atomic<bool> parker_safe{false};  // the probe found the lock held
std::atomic<bool> partner_running{false};
std::atomic<bool> partner_done{false};
gort::detail::ChanCore* watched = nullptr;

inline void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Called on the parking goroutine's own stack, before its context is saved.
void probe(gort::rt::G* gp) {
  if (gp == nullptr || gp->id != parker_id.load()) return;
  if (gp->wait_reason != parker_reason || fired.exchange(true)) return;
  if (!watched->lock.try_lock()) {
    parker_safe = true;  // locked until park_m's unlock function runs on g0
    return;
  }
  watched->lock.unlock();
  // The parker is on the channel's queue and nothing stops its partner: let
  // the one spinning on the other P complete its operation now, before we
  // switch out.
  std::fprintf(stderr,
               "probe: goroutine %llu is about to leave its stack, and the channel's lock is "
               "already free; letting the partner on the other P complete its operation now\n",
               static_cast<unsigned long long>(gp->id));
  window_open = true;
  while (!partner_done.load()) relax();
}

/// main parks in a receive (or, with @p main_sends, in a send) on an
/// unbuffered channel while its partner spins on the other P; prints the
/// value that went through.
lab03::ChildResult park_with_partner_on_other_p(bool main_sends) {
  return lab03::run_in_child([main_sends] {
    int got = gort::run(
        [main_sends] {
          gort::Chan<int> c;
          static_assert(sizeof(c) == sizeof(gort::detail::ChanCore*));
          watched = *reinterpret_cast<gort::detail::ChanCore* const*>(&c);
          parker_reason = main_sends ? gort::WaitReason::chan_send : gort::WaitReason::chan_receive;
          gort::WaitGroup wg;
          wg.add(1);
          int partner_got = 0;
          gort::go([c, &wg, main_sends, &partner_got] {
            partner_running = true;
            // Spin (no yield: keep this P) until main is inside the window.
            while (!window_open.load() && !parker_safe.load()) relax();
            if (main_sends) {
              partner_got = *c.recv();
            } else {
              c.send(7);
            }
            partner_done = true;
            wg.done();
          });
          // A second goroutine takes runnext, so the partner sits in the
          // ring, where an idle P's M takes it: the partner then runs on
          // another M.
          gort::go([] {});
          while (!partner_running.load()) relax();
          parker_id = gort::debug::goroutine_id();
          gort::rt::switch_out_probe.store(probe);
          int v = 0;
          if (main_sends) {
            c.send(7);
          } else {
            v = *c.recv();
          }
          gort::rt::switch_out_probe.store(nullptr);
          wg.wait();
          return main_sends ? partner_got : v;
        },
        {.procs = 2});
    std::printf("%d\n", got);
  });
}

std::string explain(const lab03::ChildResult& r, const char* who) {
  bool window = r.err.find("probe: goroutine") != std::string::npos;
  std::string why =
      window ? std::string("the channel's lock was already free while the parked ") + who +
                   " was still on its own stack, so its partner on another M readied it before "
                   "its context was saved. The lock must stay held until park_m runs the unlock "
                   "function (chan_park_unlock) on g0: never unlock before park()"
             : std::string("a ") + who +
                   " that parks on an unbuffered channel, then is woken by its partner on another "
                   "M, must see the value 7 go through";
  return why + "; the program ended with " + r.how() + ", stdout: " + r.out + " stderr:\n" + r.err;
}

}  // namespace

GRADED_TEST("chan: a parked goroutine is not visible until it is off its stack", 4,
            "Task 3: unbuffered channels") {
  auto r = park_with_partner_on_other_p(false);
  CHECK_MESSAGE((r.exit_code == 0 && r.out == "7\n"), explain(r, "receiver"));
  auto s = park_with_partner_on_other_p(true);
  CHECK_MESSAGE((s.exit_code == 0 && s.out == "7\n"), explain(s, "sender"));
}
