// Demo: "hello, goroutine" — what `go f()` promises and what it does not.
//
// The textbook example starts a goroutine that prints a line and then has
// main print its own line, once with a sleep in main and once without. This
// program runs both versions, one gort::run() after the other, and reports
// what actually happened (it checks whether the goroutine ran; it does not
// assume it). Both runs use one P so the outcome is exact, not a race:
//
//   * go() makes the new goroutine runnable — it goes into the P's runnext
//     slot — and returns at once. It does not run it.
//   * The goroutine runs only when main's P schedules: when main blocks
//     (sleep, channel, lock) or yields.
//   * When main returns, gort::run returns: goroutines that never ran, or are
//     blocked, are abandoned, as Go's runtime.main calls exit(0) without
//     waiting for anyone.
//
// Sleeping is the wrong way to wait for a goroutine (it only works because the
// sleep happens to be long enough); the third run shows the right way, a
// WaitGroup (or a channel receive).
#include <gort/gort.hpp>

#include <atomic>
#include <cstdio>

namespace {

std::atomic<bool> hello_ran{false};

void hello_goroutine() {
  std::printf("    Hello Goroutine   (goroutine %llu, on P%d)\n",
              static_cast<unsigned long long>(gort::debug::goroutine_id()),
              gort::debug::current_p());
  hello_ran = true;
}

}  // namespace

int main() {
  const gort::Config one_p{.procs = 1};

  std::printf("1) go hello(); sleep_for(100ms); print — main sleeps before it ends\n");
  hello_ran = false;
  gort::run(
      [] {
        gort::go(hello_goroutine);
        gort::sleep_for(std::chrono::milliseconds(100));
        std::printf("    main function ended\n");
      },
      one_p);
  std::printf(
      "   -> hello ran: %s. main's sleep parked main (a timer will ready it), so the P\n"
      "      was free and took the goroutine waiting in its runnext slot. No thread slept.\n\n",
      hello_ran ? "yes" : "NO (unexpected!)");
  bool first_ok = hello_ran;

  std::printf("2) go hello(); print — no sleep\n");
  hello_ran = false;
  gort::run(
      [] {
        gort::go(hello_goroutine);
        std::printf("    main function ended\n");
      },
      one_p);
  std::printf(
      "   -> hello ran: %s. go() only queued the goroutine; main never blocked, so the P\n"
      "      never scheduled, and when main returned the runtime ended, abandoning it\n"
      "      (Go's runtime.main exits the same way). With more Ps another P could pick it\n"
      "      up first — a race, which is why neither Go nor gort promises the line.\n\n",
      hello_ran ? "yes (unexpected on one P!)" : "no");
  bool second_ok = !hello_ran;

  std::printf("3) go hello(); wg.wait(); print — the right way to wait\n");
  hello_ran = false;
  gort::run([] {
    gort::WaitGroup wg;
    wg.add(1);
    gort::go([&wg] {
      hello_goroutine();
      wg.done();
    });
    wg.wait();
    std::printf("    main function ended\n");
  });
  std::printf("   -> hello ran: %s, on any number of Ps, without guessing a sleep length.\n",
              hello_ran ? "yes" : "NO (unexpected!)");
  return first_ok && second_ok && hello_ran ? 0 : 1;
}
