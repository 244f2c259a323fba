// demo_select — Go's usual select patterns on gort (gort/select.hpp,
// gort/time.hpp): fan-in of two producers, a ticker that paces each one, a
// quit channel that stops them, a receive with a timeout, and a
// non-blocking send. Each block prints what Go's version would print.
#include <gort/gort.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

int main() {
  return gort::run([] {
    // 1. Fan-in with a quit channel: two producers at different paces; the
    //    consumer takes whatever comes first until a deadline.
    gort::Chan<std::string> fast, slow;
    gort::Chan<bool> quit;
    gort::WaitGroup wg;
    auto producer = [&wg, quit](gort::Chan<std::string> out, std::string name,
                                std::chrono::milliseconds every) {
      gort::Ticker tk(every);
      for (int i = 1;; ++i) {
        bool stop = false;
        // Wait for the next tick, or quit.
        gort::select(gort::recv(tk.c()), gort::recv(quit, [&] { stop = true; }));
        // Send, unless told to quit meanwhile.
        if (!stop) {
          gort::select(gort::send(out, name + " #" + std::to_string(i)),
                       gort::recv(quit, [&] { stop = true; }));
        }
        if (stop) {
          tk.stop();
          wg.done();
          return;
        }
      }
    };
    wg.add(2);
    gort::go(producer, fast, "fast", 10ms);
    gort::go(producer, slow, "slow", 35ms);

    int n_fast = 0, n_slow = 0;
    gort::Timer deadline(120ms);
    for (bool done = false; !done;) {
      gort::select(gort::recv(fast, [&](std::optional<std::string>) { ++n_fast; }),
                   gort::recv(slow,
                              [&](std::optional<std::string> m) {
                                ++n_slow;
                                std::printf("  got %s\n", m.value_or("?").c_str());
                              }),
                   gort::recv(deadline.c(), [&] { done = true; }));
    }
    quit.close();  // every producer's select sees it
    wg.wait();
    std::printf("fan-in for 120 ms: %d from fast (every 10 ms), %d from slow (every 35 ms)\n",
                n_fast, n_slow);

    // 2. A receive with a timeout (Go: case <-time.After(50 * time.Millisecond)).
    gort::Chan<int> never;
    auto t0 = std::chrono::steady_clock::now();
    int i = gort::select(gort::recv(never, [](std::optional<int>) { std::puts("a value?!"); }),
                         gort::recv(gort::after(50ms), [] { std::puts("timeout"); }));
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    std::printf("select returned case %d after %lld ms (>= 50)\n", i,
                static_cast<long long>(waited.count()));

    // 3. Non-blocking send: a full mailbox drops the message (default case).
    gort::Chan<std::string> mailbox(1);
    for (const char* msg : {"first", "second"}) {
      gort::select(gort::send(mailbox, std::string(msg), [msg] { std::printf("sent %s\n", msg); }),
                   gort::default_case([msg] { std::printf("no room: dropped %s\n", msg); }));
    }
  });
}
