// Solution-only tests of gort::select (gort/select.hpp, runtime/rt/select.cpp):
// Go's semantics (ready cases, default, closed channels, nil channels, the
// panics), the uniform random choice (chi-square), and counted invariants
// under contention across Ps (no value lost or delivered twice, no handler
// run twice). No sleeps as synchronisation: a test that needs a goroutine
// parked in a select waits for it with wait_parked() (a snapshot poll).
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "child.hpp"
#include "gort/gort.hpp"

namespace {

using gort_test::Child;
using gort_test::in_child;

/// Yields until @p n goroutines are parked with wait reason @p why.
void wait_parked(gort::WaitReason why, int n = 1) {
  for (;;) {
    int k = 0;
    for (const auto& g : gort::debug::snapshot().goroutines) {
      k += g.status == gort::GStatus::waiting && g.wait_reason == why;
    }
    if (k >= n) return;
    gort::yield();
  }
}

/// P(chi-square > bound) = 1e-9 for 1, 3 degrees of freedom: a uniform
/// choice fails these with negligible probability, whatever the seed.
constexpr double kChi2Df1 = 37.32;
constexpr double kChi2Df3 = 44.84;

double chi2(const std::vector<long>& observed, double expected) {
  double s = 0;
  for (long o : observed) s += (o - expected) * (o - expected) / expected;
  return s;
}

}  // namespace

TEST_CASE("select: takes the ready case, runs only its handler, returns its index") {
  gort::run(
      [] {
        gort::Chan<int> a(1), b(1);
        b.send(7);
        int got = 0, runs_a = 0;
        int i = gort::select(gort::recv(a, [&](std::optional<int>) { ++runs_a; }),
                             gort::recv(b, [&](std::optional<int> v) { got = v.value_or(-1); }));
        CHECK(i == 1);
        CHECK(got == 7);
        CHECK(runs_a == 0);
        // A send case with room in the buffer.
        bool sent = false;
        i = gort::select(gort::recv(a), gort::send(b, 9, [&] { sent = true; }));
        CHECK(i == 1);
        CHECK(sent);
        CHECK(b.recv() == 9);
      },
      {.procs = 1});
}

TEST_CASE("select: default runs when nothing is ready, never when something is") {
  gort::run([] {
    gort::Chan<int> a, b(1);
    int def = 0;
    int i = gort::select(gort::recv(a), gort::send(a, 1), gort::default_case([&] { ++def; }));
    CHECK(i == 2);
    CHECK(def == 1);
    b.send(3);
    for (int k = 0; k < 100; ++k) {  // ready receive beats default every time
      int v = 0;
      i = gort::select(gort::default_case([&] { ++def; }),
                       gort::recv(b, [&](std::optional<int> x) { v = *x; }));
      CHECK(i == 1);
      CHECK(v == 3);
      b.send(3);
    }
    CHECK(def == 1);
    // Non-blocking send on a full buffer takes the default.
    CHECK(gort::select(gort::send(b, 4), gort::default_case()) == 1);
    CHECK(b.size() == 1);
  });
}

TEST_CASE("select: rendezvous with a parked sender and a parked receiver") {
  for (int procs : {1, 4}) {
    gort::run(
        [] {
          gort::Chan<std::string> in, out;
          gort::go([in] { in.send("from a sender"); });
          wait_parked(gort::WaitReason::chan_send);
          std::string got;
          int i = gort::select(
              gort::recv(in, [&](std::optional<std::string> v) { got = v.value_or("closed"); }),
              gort::recv(out));
          CHECK(i == 0);
          CHECK(got == "from a sender");
          gort::Chan<bool> done;
          gort::go([out, done] {
            done.send(out.recv() == std::optional<std::string>("to a receiver"));
          });
          wait_parked(gort::WaitReason::chan_receive);
          i = gort::select(gort::recv(in), gort::send(out, std::string("to a receiver")));
          CHECK(i == 1);
          CHECK(done.recv() == true);
        },
        {.procs = procs});
  }
}

TEST_CASE("select: a parked select is woken by a send, a receive, and on each channel") {
  for (int procs : {1, 3}) {
    gort::run(
        [] {
          for (int which = 0; which < 3; ++which) {
            gort::Chan<int> a, b, c;
            gort::Chan<int> result(1);
            gort::go([=] {
              int got = -1;
              int i = gort::select(gort::recv(a, [&](std::optional<int> v) { got = *v; }),
                                   gort::recv(b, [&](std::optional<int> v) { got = *v; }),
                                   gort::send(c, 30, [&] { got = 30; }));
              result.send(i * 100 + got);
            });
            wait_parked(gort::WaitReason::select);
            if (which == 0) a.send(10);
            if (which == 1) b.send(20);
            if (which == 2) CHECK(c.recv() == 30);
            CHECK(result.recv() == which * 100 + (which + 1) * 10);
            // The losing Waiters are gone: the other channels work normally.
            CHECK(gort::select(gort::send(a, 1), gort::send(b, 2), gort::recv(c),
                               gort::default_case()) == 3);
          }
        },
        {.procs = procs});
  }
}

TEST_CASE("select: a closed channel's receive is ready and gets an empty optional") {
  gort::run([] {
    gort::Chan<int> a(2), never;
    a.send(1);
    a.close();
    std::vector<std::optional<int>> seen;
    for (int k = 0; k < 3; ++k) {
      int i = gort::select(gort::recv(never),
                           gort::recv(a, [&](std::optional<int> v) { seen.push_back(v); }));
      CHECK(i == 1);
    }
    // The buffer drains first, then "closed" every time.
    REQUIRE(seen.size() == 3);
    CHECK(seen[0] == std::optional<int>(1));
    CHECK(!seen[1].has_value());
    CHECK(!seen[2].has_value());
  });
}

TEST_CASE("select: closing a channel wakes a select parked on it") {
  for (int procs : {1, 4}) {
    gort::run(
        [] {
          gort::Chan<int> a, b;
          gort::Chan<int> result(1);
          gort::go([=] {
            int r = -2;
            gort::select(gort::recv(a, [&](std::optional<int> v) { r = v ? *v : -1; }),
                         gort::recv(b, [&](std::optional<int>) { r = 99; }));
            result.send(r);
          });
          wait_parked(gort::WaitReason::select);
          a.close();
          CHECK(result.recv() == -1);
          // b's Waiter was taken back: a sender on b finds no receiver.
          CHECK(gort::select(gort::send(b, 5), gort::default_case()) == 1);
        },
        {.procs = procs});
  }
}

TEST_CASE("select: the same channel in several cases, and more cases than the stack arrays") {
  gort::run([] {
    gort::Chan<int> a(1);
    gort::go([a] { a.send(4); });
    int n = 0;
    int i = gort::select(gort::recv(a, [&](std::optional<int>) { ++n; }),
                         gort::recv(a, [&](std::optional<int>) { ++n; }));
    CHECK((i == 0 || i == 1));
    CHECK(n == 1);
    std::vector<gort::Chan<int>> cs(12);
    gort::go([c = cs[10]] { c.send(10); });
    int got = -1;
    auto h = [&](std::optional<int> v) { got = *v; };
    i = gort::select(gort::recv(cs[0], h), gort::recv(cs[1], h), gort::recv(cs[2], h),
                     gort::recv(cs[3], h), gort::recv(cs[4], h), gort::recv(cs[5], h),
                     gort::recv(cs[6], h), gort::recv(cs[7], h), gort::recv(cs[8], h),
                     gort::recv(cs[9], h), gort::recv(cs[10], h), gort::recv(cs[11], h));
    CHECK(i == 10);
    CHECK(got == 10);
  });
}

TEST_CASE("select: a null channel pointer never proceeds (Go's nil channel)") {
  gort::run([] {
    const gort::Chan<int>* nil = nullptr;
    gort::Chan<int> a(1);
    a.send(1);
    for (int k = 0; k < 50; ++k) {
      CHECK(gort::select(gort::recv(nil), gort::send(nil, 3), gort::recv(&a)) == 2);
      a.send(1);
    }
    CHECK(gort::select(gort::recv(nil), gort::default_case()) == 1);
  });
}

TEST_CASE("select: move-only values go through select cases") {
  gort::run([] {
    gort::Chan<std::unique_ptr<int>> c(1);
    int i = gort::select(gort::send(c, std::make_unique<int>(5)));
    CHECK(i == 0);
    std::unique_ptr<int> got;
    gort::select(
        gort::recv(c, [&](std::optional<std::unique_ptr<int>> v) { got = std::move(*v); }));
    REQUIRE(got);
    CHECK(*got == 5);
    // A send case that is not chosen keeps (and destroys) its value: no leak.
    gort::Chan<std::unique_ptr<int>> full(1);
    full.send(std::make_unique<int>(1));
    CHECK(gort::select(gort::send(full, std::make_unique<int>(2)), gort::default_case()) == 1);
  });
}

TEST_CASE("select: the choice among ready cases is uniform (chi-square)") {
  // Two always-ready channels: counts of each, and of each (previous, this)
  // pair — a round-robin choice passes the first test but not the second.
  constexpr long kN = 40000;
  std::vector<long> single(2, 0), pairs(4, 0);
  gort::run(
      [&] {
        gort::Chan<int> a(1), b(1);
        a.send(0);
        b.send(1);
        int prev = -1;
        for (long k = 0; k < kN; ++k) {
          int i = gort::select(gort::recv(a, [&](std::optional<int>) { a.send(0); }),
                               gort::recv(b, [&](std::optional<int>) { b.send(1); }));
          ++single[i];
          if (prev >= 0) ++pairs[prev * 2 + i];
          prev = i;
        }
      },
      {.procs = 1});
  double s1 = chi2(single, kN / 2.0);
  double s2 = chi2(pairs, (kN - 1) / 4.0);
  CHECK_MESSAGE(s1 < kChi2Df1, "counts ", single[0], "/", single[1], " chi2=", s1);
  CHECK_MESSAGE(s2 < kChi2Df3, "pair counts ", pairs[0], " ", pairs[1], " ", pairs[2], " ",
                pairs[3], " chi2=", s2);
}

TEST_CASE("select: uniform among the ready cases only, with not-ready ones mixed in") {
  constexpr long kN = 40000;
  std::vector<long> count(6, 0);
  gort::run([&] {
    gort::Chan<int> r1(1), r2(1), never, full(1);
    full.send(0);
    r1.send(1);
    r2.send(2);
    for (long k = 0; k < kN; ++k) {
      int i = gort::select(gort::recv(never), gort::recv(r1, [&](auto) { r1.send(1); }),
                           gort::send(full, 1), gort::send(never, 3),
                           gort::recv(r2, [&](auto) { r2.send(2); }), gort::recv(never));
      ++count[i];
    }
  });
  CHECK(count[0] + count[2] + count[3] + count[5] == 0);
  std::vector<long> ready{count[1], count[4]};
  double s = chi2(ready, kN / 2.0);
  CHECK_MESSAGE(s < kChi2Df1, "counts ", count[1], "/", count[4], " chi2=", s);
}

TEST_CASE("select: under contention across Ps nothing is lost, duplicated or run twice") {
  // Producers send on two channels through select send cases; consumers
  // receive with selects over both plus a quit channel. Every value is
  // received exactly once, every handler runs once per operation.
  constexpr int kProducers = 4, kConsumers = 4, kPer = 5000;
  constexpr int kTotal = kProducers * kPer;
  for (int cap : {0, 3}) {
    std::vector<std::atomic<int>> seen(kTotal);
    std::atomic<long> send_handlers{0}, recv_handlers{0}, closed_seen{0};
    gort::run(
        [&] {
          gort::Chan<int> a(cap), b(cap);
          gort::Chan<bool> quit;
          gort::WaitGroup prod, cons;
          for (int p = 0; p < kProducers; ++p) {
            prod.add();
            gort::go([&, p, a, b] {
              for (int k = 0; k < kPer; ++k) {
                int v = p * kPer + k;
                gort::select(gort::send(a, v, [&] { send_handlers.fetch_add(1); }),
                             gort::send(b, v, [&] { send_handlers.fetch_add(1); }));
                if (k % 64 == 0) gort::yield();
              }
              prod.done();
            });
          }
          for (int c = 0; c < kConsumers; ++c) {
            cons.add();
            gort::go([&, a, b, quit] {
              bool stop = false;
              auto take = [&](std::optional<int> v) {
                recv_handlers.fetch_add(1);
                if (v) seen[*v].fetch_add(1);
              };
              while (!stop) {
                gort::select(gort::recv(a, take), gort::recv(b, take),
                             gort::recv(quit, [&](std::optional<bool> q) {
                               if (!q) closed_seen.fetch_add(1);
                               stop = true;
                             }));
              }
              cons.done();
            });
          }
          prod.wait();
          // Drain what is buffered before stopping the consumers: a buffered
          // value is still owed to them.
          while (a.size() + b.size() > 0) gort::yield();
          quit.close();
          cons.wait();
        },
        {.procs = 4});
    int lost = 0, dup = 0;
    for (auto& s : seen) {
      lost += s.load() == 0;
      dup += s.load() > 1;
    }
    CHECK_MESSAGE(lost == 0, "cap ", cap, ": ", lost, " values never received");
    CHECK_MESSAGE(dup == 0, "cap ", cap, ": ", dup, " values received twice");
    CHECK(send_handlers.load() == kTotal);
    CHECK(recv_handlers.load() == kTotal);
    CHECK(closed_seen.load() == kConsumers);
  }
}

TEST_CASE("select: selects on both ends of unbuffered channels pair up exactly") {
  // Every goroutine selects: senders over (x send, y send), receivers over
  // (x recv, y recv). A select matches another parked select; each pairing
  // runs exactly one handler on each side.
  constexpr int kPairs = 6, kPer = 3000;
  std::atomic<long> sent{0}, received{0}, sum_sent{0}, sum_received{0};
  gort::run(
      [&] {
        gort::Chan<int> x, y;
        gort::WaitGroup wg;
        for (int g = 0; g < kPairs; ++g) {
          wg.add(2);
          gort::go([&, g, x, y] {
            for (int k = 0; k < kPer; ++k) {
              int v = g * kPer + k + 1;
              gort::select(gort::send(x, v, [&] { sent.fetch_add(1); }),
                           gort::send(y, v, [&] { sent.fetch_add(1); }));
              sum_sent.fetch_add(v);
            }
            wg.done();
          });
          gort::go([&, x, y] {
            auto h = [&](std::optional<int> v) {
              received.fetch_add(1);
              sum_received.fetch_add(*v);
            };
            for (int k = 0; k < kPer; ++k) gort::select(gort::recv(x, h), gort::recv(y, h));
            wg.done();
          });
        }
        wg.wait();
      },
      {.procs = 4});
  CHECK(sent.load() == long{kPairs} * kPer);
  CHECK(received.load() == long{kPairs} * kPer);
  CHECK(sum_received.load() == sum_sent.load());
}

TEST_CASE("select: closing channels under parked selects across Ps wakes every one") {
  constexpr int kSelectors = 200;
  std::atomic<int> woke_closed{0};
  gort::run(
      [&] {
        std::vector<gort::Chan<int>> chans(8);
        gort::WaitGroup wg;
        for (int g = 0; g < kSelectors; ++g) {
          wg.add();
          gort::Chan<int> c1 = chans[g % 8], c2 = chans[(g + 3) % 8];
          gort::go([&, c1, c2] {
            auto h = [&](std::optional<int> v) {
              if (!v) woke_closed.fetch_add(1);
            };
            gort::select(gort::recv(c1, h), gort::recv(c2, h));
            wg.done();
          });
        }
        wait_parked(gort::WaitReason::select, kSelectors);
        for (auto& c : chans) c.close();
        wg.wait();
      },
      {.procs = 4});
  CHECK(woke_closed.load() == kSelectors);
}

TEST_CASE("select: misuse gets Go's words, and select {} is a deadlock when alone") {
  Child c = in_child([] {
    gort::run([] {
      gort::Chan<int> a(1);
      a.close();
      gort::select(gort::send(a, 1), gort::recv(gort::Chan<int>()));
    });
  });
  CHECK(c.code == 2);
  CHECK_MESSAGE(c.err.find("panic: send on closed channel") != std::string::npos, c.err);

  c = in_child([] {
    gort::run(
        [] {
          gort::Chan<int> a;
          gort::go([a] { gort::select(gort::send(a, 1), gort::recv(gort::Chan<int>())); });
          wait_parked(gort::WaitReason::select);
          a.close();
          gort::select();  // the panic ends the process; else a deadlock, with other words
        },
        {.procs = 2});
  });
  CHECK(c.code == 2);
  CHECK_MESSAGE(c.err.find("panic: send on closed channel") != std::string::npos, c.err);

  c = in_child([] { gort::run([] { gort::select(); }); });
  CHECK(c.code == 2);
  CHECK_MESSAGE(
      c.err.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos, c.err);
  CHECK_MESSAGE(c.err.find("goroutine 1 [select (no cases)]") != std::string::npos, c.err);

  c = in_child([] {
    gort::run([] {
      gort::Chan<int> a, b;
      gort::select(gort::recv(a), gort::recv(b));
    });
  });
  CHECK(c.code == 2);
  CHECK_MESSAGE(c.err.find("goroutine 1 [select]") != std::string::npos, c.err);

  gort::Chan<int> a(1);
  try {
    gort::select(gort::recv(a), gort::default_case());
    FAIL("select outside gort::run did not throw");
  } catch (const std::logic_error& e) {
    CHECK(std::string(e.what()).find("gort::select called outside gort::run") != std::string::npos);
  }
}
