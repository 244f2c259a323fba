// Lab 01 grader — task 1, Note.
//
// These tests use std::thread, not gort::os::Thread, so that task 1 is graded
// on its own. Every wait is on the notes under test (a broken Note hangs, and
// the harness reports the hang); nothing sleeps for a fixed time.
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gort_grader.hpp"
#include "os/note.hpp"

using gort::os::Note;
using namespace std::chrono_literals;

GRADED_TEST("note: a wake-up posted before the sleep is kept", 8, "Task 1") {
  {
    Note n;
    CHECK_MESSAGE(!n.signaled(), "a new Note must not be signalled");
    n.wakeup();
    CHECK_MESSAGE(n.signaled(), "after wakeup() the note must report signaled()");
    n.sleep();  // must return at once: the wake-up happened first
  }
  {
    // The waker is another thread that has completely finished before the
    // sleep starts: nobody is left to wake us, the word alone must tell.
    Note n;
    std::thread waker([&] { n.wakeup(); });
    waker.join();
    n.sleep();
    CHECK_MESSAGE(n.signaled(), "a note woken by another (finished) thread must stay signalled");
  }
}

GRADED_TEST("note: no wake-up is lost when wakeup races with sleep", 10, "Task 1") {
  // Ping-pong between two threads on two notes, many rounds. Each side wakes
  // the other and sleeps; whether the wakeup() lands before or during the
  // peer's sleep() is up to the scheduler, so both orders happen. A lost
  // wake-up leaves both sides asleep forever: the harness reports a HANG.
  constexpr int kRounds = 20000;
  Note ping, pong;
  // Fail here, cleanly, if the Note is unfinished (not inside the peer thread).
  pong.wakeup();
  pong.sleep();
  pong.clear();
  std::atomic<int> served{0};
  std::thread peer([&] {
    for (int i = 0; i < kRounds; ++i) {
      ping.sleep();
      ping.clear();  // safe: the main thread wakes `ping` again only after `pong`
      if (i % 3 == 0) {
        volatile int spin = 0;  // vary the timing so both orders occur
        for (int k = 0; k < (i % 7) * 50; ++k) spin = spin + 1;
      }
      served.fetch_add(1, std::memory_order_relaxed);
      pong.wakeup();
    }
  });
  int rounds = 0;
  for (int i = 0; i < kRounds; ++i) {
    ping.wakeup();
    pong.sleep();
    pong.clear();
    ++rounds;
  }
  peer.join();
  CHECK_MESSAGE(rounds == kRounds, "the ping-pong stopped early");
  CHECK_MESSAGE(served.load() == kRounds,
                "every wake-up must release exactly one sleep of the peer: served "
                    << served.load() << " of " << kRounds);
}

GRADED_TEST("note: a Note wakes exactly once", 6, "Task 1") {
  {
    Note n;
    n.wakeup();
    CHECK_THROWS_AS_MESSAGE(n.wakeup(), std::logic_error,
                            "a second wakeup() without clear() must throw std::logic_error "
                            "(\"double wakeup\"): the runtime sent a wake-up twice");
    n.clear();
    CHECK_MESSAGE(!n.signaled(), "clear() must reset the note to not signalled");
    CHECK_MESSAGE(!n.sleep_for(0ns), "a cleared note must not be signalled");
    CHECK_NOTHROW_MESSAGE(n.wakeup(), "after clear() the note must be usable again");
    CHECK(n.signaled());
  }
  {
    // Several sleepers, each on its own note: waking one note releases
    // exactly its sleeper, one per wakeup().
    constexpr int kSleepers = 8;
    std::vector<std::unique_ptr<Note>> go(kSleepers), done(kSleepers);
    for (int i = 0; i < kSleepers; ++i) {
      go[i] = std::make_unique<Note>();
      done[i] = std::make_unique<Note>();
    }
    std::atomic<int> released{0};
    std::vector<int> runs(kSleepers, 0);
    std::vector<std::thread> sleepers;
    for (int i = 0; i < kSleepers; ++i) {
      sleepers.emplace_back([&, i] {
        go[i]->sleep();
        runs[i]++;
        released.fetch_add(1);
        done[i]->wakeup();
      });
    }
    for (int i = 0; i < kSleepers; ++i) {
      go[i]->wakeup();
      done[i]->sleep();
      INFO("after waking sleeper " << i);
      CHECK_MESSAGE(released.load() == i + 1,
                    "one wakeup() must release exactly one sleeper; released "
                        << released.load() << " after " << i + 1 << " wake-ups");
    }
    for (auto& t : sleepers) t.join();
    for (int i = 0; i < kSleepers; ++i) {
      CHECK_MESSAGE(runs[i] == 1, "sleeper " << i << " returned from sleep() " << runs[i]
                                             << " times, expected exactly once");
    }
  }
}

GRADED_TEST("note: timed sleep returns false on time-out and true on wake", 6, "Task 1") {
  {
    Note n;
    CHECK_MESSAGE(!n.sleep_for(0ns), "sleep_for(0) on an unsignalled note must return false");
    CHECK_MESSAGE(!n.sleep_for(2ms), "nobody wakes this note: sleep_for must time out (false)");
    CHECK_MESSAGE(!n.signaled(), "a time-out must not signal the note");
    n.wakeup();  // a wake-up after a time-out still counts
    CHECK_MESSAGE(n.sleep_for(0ns), "a signalled note: sleep_for(0) must return true");
    CHECK_MESSAGE(n.sleep_for(1ms), "a signalled note: sleep_for must return true at once");
    n.sleep();
  }
  {
    // Woken by another thread before or during a long timed sleep: true.
    // (If the wake-up were missed, the sleep would last 60 s and the harness
    // would report a hang.)
    Note n;
    std::thread waker([&] { n.wakeup(); });
    bool woke = n.sleep_for(60s);
    waker.join();
    CHECK_MESSAGE(woke, "sleep_for must return true when the note is woken in time");
  }
}
