// Lab 03 grader — task 3, channels (chan.cpp).
//
// Semantics first, on one P where "is it blocked?" has an exact answer: a
// goroutine that did not reach the line after send() after the others ran
// is blocked. Then invariants under real parallelism (sums and counts
// conserved), and Go's panics in a child process.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gort/gort.hpp"
#include "gort_grader.hpp"
#include "lab03_util.hpp"

using lab03::str;

GRADED_TEST("chan: unbuffered send and receive rendezvous", 4, "Task 3: unbuffered channels") {
  bool sent_before_recv = false, sent_after_recv = false;
  int got = 0;
  std::unique_ptr<int> moved;
  gort::run(
      [&] {
        gort::Chan<int> c;
        bool sent = false;
        gort::go([&] {
          c.send(5);
          sent = true;
        });
        for (int i = 0; i < 3; ++i) gort::yield();
        sent_before_recv = sent;  // must still be blocked: nobody received
        got = *c.recv();
        for (int i = 0; i < 3; ++i) gort::yield();
        sent_after_recv = sent;
        // Move-only elements travel through the channel.
        gort::Chan<std::unique_ptr<int>> p;
        gort::go([p] { p.send(std::make_unique<int>(99)); });
        moved = *p.recv();
      },
      {.procs = 1});
  CHECK_MESSAGE(!sent_before_recv,
                "send() on an unbuffered channel returned before any receiver came: it must "
                "block until a receiver takes the value");
  CHECK_MESSAGE(got == 5, "recv() returned ", got, ", expected 5");
  CHECK_MESSAGE(sent_after_recv, "the sender was never woken after its value was received");
  REQUIRE_MESSAGE(moved != nullptr, "a unique_ptr sent through a channel arrived empty");
  CHECK(*moved == 99);
}

GRADED_TEST("chan: a buffered channel is FIFO and blocks only when full", 3,
            "Task 3: buffered channels") {
  std::size_t size_after_3 = 0;
  bool fourth_blocked = false, fourth_done = false;
  std::vector<int> got;
  std::vector<int> big;
  gort::run(
      [&] {
        gort::Chan<int> c(3);
        c.send(0);
        c.send(1);
        c.send(2);  // none of these may block: there is room
        size_after_3 = c.size();
        bool done = false;
        gort::go([&] {
          c.send(3);  // full: blocks until a receive makes room
          done = true;
        });
        for (int i = 0; i < 3; ++i) gort::yield();
        fourth_blocked = !done;
        for (int i = 0; i < 4; ++i) got.push_back(*c.recv());
        for (int i = 0; i < 3; ++i) gort::yield();
        fourth_done = done;
        // A longer stream through a small buffer keeps its order.
        gort::Chan<int> s(4);
        gort::go([s] {
          for (int i = 0; i < 1000; ++i) s.send(i);
          s.close();
        });
        while (auto v = s.recv()) big.push_back(*v);
      },
      {.procs = 1});
  CHECK_MESSAGE(size_after_3 == 3, "size() after 3 sends into a 3-slot channel: ", size_after_3);
  CHECK_MESSAGE(fourth_blocked, "a send into a full buffered channel did not block");
  CHECK_MESSAGE(fourth_done, "a sender blocked on a full channel was not woken by a receive");
  CHECK_MESSAGE(str(got) == "[0, 1, 2, 3]", "received ", str(got),
                ", expected [0, 1, 2, 3] (FIFO, the blocked sender's value last)");
  bool in_order = big.size() == 1000;
  for (std::size_t i = 0; in_order && i < big.size(); ++i) in_order = big[i] == static_cast<int>(i);
  CHECK_MESSAGE(in_order, "1000 values through a 4-slot channel arrived out of order or not all (",
                big.size(), " received)");
}

GRADED_TEST("chan: close wakes receivers and drains the buffer first", 3, "Task 3: close") {
  std::vector<int> drained;
  int after_close_empty = 0;
  int woken_by_close = 0;
  gort::run(
      [&] {
        gort::Chan<int> c(5);
        c.send(1);
        c.send(2);
        c.close();
        for (int i = 0; i < 4; ++i) {
          auto v = c.recv();
          if (v) {
            drained.push_back(*v);
          } else {
            ++after_close_empty;
          }
        }
        // Receivers parked on an unbuffered channel all wake up on close.
        gort::Chan<int> u;
        gort::WaitGroup wg;
        std::atomic<int> woken{0};
        for (int i = 0; i < 5; ++i) {
          wg.add();
          gort::go([&, u] {
            if (!u.recv()) woken.fetch_add(1);
            wg.done();
          });
        }
        for (int i = 0; i < 3; ++i) gort::yield();
        u.close();
        wg.wait();
        woken_by_close = woken.load();
      },
      {.procs = 1});
  CHECK_MESSAGE(str(drained) == "[1, 2]", "from a closed channel holding 1, 2 got ", str(drained),
                ": buffered values must still be received after close()");
  CHECK_MESSAGE(after_close_empty == 2, after_close_empty,
                " of 2 receives after draining reported 'closed' (empty optional)");
  CHECK_MESSAGE(woken_by_close == 5, woken_by_close,
                " of 5 receivers blocked on the channel were woken by close() with 'closed'");
}

GRADED_TEST("chan: many senders and receivers on several Ps conserve the sum", 3,
            "Task 3: channels between Ps") {
  constexpr int kSenders = 8, kReceivers = 8, kEach = 5000, kPairs = 50, kRounds = 200;
  long long received_sum[2] = {0, 0};
  long long received_n[2] = {0, 0};
  long long pingpong = 0;
  gort::run(
      [&] {
        for (int cap : {0, 16}) {
          gort::Chan<int> c(static_cast<std::size_t>(cap));
          gort::WaitGroup senders, receivers;
          std::atomic<long long> sum{0}, n{0};
          for (int s = 0; s < kSenders; ++s) {
            senders.add();
            gort::go([&, c, s] {
              for (int i = 1; i <= kEach; ++i) c.send(s * kEach + i);
              senders.done();
            });
          }
          for (int r = 0; r < kReceivers; ++r) {
            receivers.add();
            gort::go([&, c] {
              while (auto v = c.recv()) {
                sum.fetch_add(*v);
                n.fetch_add(1);
              }
              receivers.done();
            });
          }
          senders.wait();
          c.close();
          receivers.wait();
          received_sum[cap ? 1 : 0] = sum.load();
          received_n[cap ? 1 : 0] = n.load();
        }
        // Ping-pong pairs: each round trip needs two wake-ups across Ps.
        gort::WaitGroup wg;
        std::atomic<long long> total{0};
        for (int p = 0; p < kPairs; ++p) {
          wg.add(2);
          gort::Chan<int> ping, pong;
          gort::go([&, ping, pong] {
            while (auto v = ping.recv()) pong.send(*v + 1);
            wg.done();
          });
          gort::go([&, ping, pong] {
            int x = 0;
            for (int r = 0; r < kRounds; ++r) {
              ping.send(x);
              x = *pong.recv();
            }
            ping.close();
            total.fetch_add(x);
            wg.done();
          });
        }
        wg.wait();
        pingpong = total.load();
      },
      {.procs = 4});
  constexpr long long kTotal = static_cast<long long>(kSenders) * kEach;
  constexpr long long kSum = kTotal * (kTotal + 1) / 2;
  for (int k = 0; k < 2; ++k) {
    std::string kind = k ? "buffered" : "unbuffered";
    CHECK_MESSAGE(received_n[k] == kTotal, kind, ": received ", received_n[k], " values, sent ",
                  kTotal);
    CHECK_MESSAGE(received_sum[k] == kSum, kind, ": sum received ", received_sum[k], ", sum sent ",
                  kSum, " (values lost or duplicated)");
  }
  CHECK_MESSAGE(pingpong == static_cast<long long>(kPairs) * kRounds, "ping-pong total ", pingpong,
                ", expected ", kPairs * kRounds);
}

GRADED_TEST("chan: misuse panics with Go's message", 2, "Task 3: close") {
  auto r = lab03::run_in_child([] {
    gort::run([] {
      gort::Chan<int> c(1);
      c.close();
      c.send(1);
    });
  });
  CHECK_MESSAGE(r.exit_code == 2, "send on a closed channel ended with ", r.how(),
                ", expected exit code 2; stderr:\n", r.err);
  CHECK_MESSAGE(r.err.find("panic: send on closed channel") != std::string::npos,
                "stderr lacks 'panic: send on closed channel':\n", r.err);
  CHECK_MESSAGE(r.err.find("goroutine 1 [running]") != std::string::npos,
                "the panic must name the goroutine ('goroutine 1 [running]'):\n", r.err);
  auto r2 = lab03::run_in_child([] {
    gort::run([] {
      gort::Chan<int> c;
      c.close();
      c.close();
    });
  });
  CHECK_MESSAGE(r2.exit_code == 2, "closing a closed channel ended with ", r2.how(),
                ", expected exit code 2; stderr:\n", r2.err);
  CHECK_MESSAGE(r2.err.find("panic: close of closed channel") != std::string::npos,
                "stderr lacks 'panic: close of closed channel':\n", r2.err);
  auto r3 = lab03::run_in_child([] {
    gort::run(
        [] {
          gort::Chan<int> c;
          gort::go([c] { c.send(1); });  // parks, then the channel is closed under it
          gort::yield();
          c.close();
          gort::yield();
        },
        {.procs = 1});
  });
  bool r3_ok =
      r3.exit_code == 2 && r3.err.find("panic: send on closed channel") != std::string::npos;
  CHECK_MESSAGE(r3_ok,
                "a sender blocked when the channel is closed must panic 'send on closed "
                "channel' (exit 2); got ",
                r3.how(), ", stderr:\n", r3.err);
}

GRADED_TEST("api: calls outside run throw a clear error", 3,
            "Task 2: starting and ending goroutines") {
  auto says_outside = [](auto f) {
    try {
      f();
    } catch (const std::logic_error& e) {
      return std::string(e.what()).find("outside gort::run") != std::string::npos;
    }
    return false;
  };
  CHECK_MESSAGE(
      says_outside([] { gort::go([] {}); }),
      "gort::go outside gort::run must throw std::logic_error saying 'outside gort::run'");
  CHECK_MESSAGE(says_outside([] { gort::yield(); }), "gort::yield outside run must throw");
  CHECK_MESSAGE(says_outside([] { gort::Chan<int>(1).send(1); }),
                "Chan::send outside run must throw");
  // ... and the same calls work inside run (no channel needed: Task 2 alone).
  int r = gort::run([] {
    gort::WaitGroup wg;
    int v = 0;
    wg.add(1);
    gort::go([&] {
      v = 3;
      wg.done();
    });
    gort::yield();
    wg.wait();
    return v;
  });
  CHECK_MESSAGE(r == 3, "inside run the same calls must work; run returned ", r);
}
