// Regression tests for gort::WaitGroup and gort::Mutex (solution only):
//   * the goroutine that frees a WaitGroup right after wait() returns, or a
//     Mutex right after its last unlock, must not race with a done() or an
//     unlock() still running on another P: each object sits alone in a page
//     that is unmapped at that moment, so a late access faults (a storm of
//     signals stalls threads at random instructions, so that the few-
//     instruction window is actually hit), and the heap variants let TSan
//     see the race on every run, whatever the timing;
//   * done() and unlock() called from a plain thread, when they would have
//     to wake a goroutine, throw without changing anything, so the parked
//     goroutine is still there for the next legitimate call.
// No sleeps: goroutines meet through atomics, a WaitGroup or a snapshot of
// the scheduler (the only way to know a goroutine is parked).
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "child.hpp"
#include "gort/gort.hpp"

namespace {

// Rounds per test. Under a sanitizer a WaitGroup round is ~10x slower; the
// heap variants, which ASan and TSan check access by access, matter most
// there (a Mutex round stays cheap).
#if defined(GORT_TSAN) || defined(GORT_ASAN)
constexpr int kRounds = 1000;
#else
constexpr int kRounds = 10000;
#endif
constexpr int kMutexHeapRounds = 5000;

// A run of fresh pages, one per round. "Unmapping" a page replaces it with
// an inaccessible one (its memory is released and any access faults) while
// the address range stays reserved: nothing else — a thread or goroutine
// stack — can be mapped into the holes, and the destructor can release the
// whole run at once.
class PageRun {
 public:
  explicit PageRun(std::size_t n)
      : n_(n), page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {
    void* p =
        ::mmap(nullptr, n_ * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(p);
  }
  ~PageRun() { ::munmap(base_, n_ * page_); }
  PageRun(const PageRun&) = delete;
  PageRun& operator=(const PageRun&) = delete;
  std::size_t size() const { return n_; }
  /// Page @p i; valid until unmap(i).
  void* page(std::size_t i) const { return base_ + i * page_; }
  /// Unmaps page @p i: from now on any access to it faults.
  void unmap(std::size_t i) {
    void* p = ::mmap(base_ + i * page_, page_, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) std::abort();
  }

 private:
  std::size_t n_;
  std::size_t page_;
  char* base_ = nullptr;
};

// While alive, interrupts the process every 50 µs (SIGALRM, to whichever
// thread) with a handler that keeps that thread busy for some µs. Races
// whose window is a few instructions wide — "the waiter frees the object
// while the releasing call is one store away from its end" — need the
// releasing thread to stall right there; this makes such stalls frequent
// instead of rare (an OS preemption at that instruction). Not used under
// sanitizers, which defer signals and see those races by other means.
class SignalStorm {
 public:
  SignalStorm() {
    struct sigaction sa {};
    sa.sa_handler = [](int) {
      for (int i = 0; i < 20000; ++i) asm volatile("" ::: "memory");
    };
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, &old_);
    itimerval every{{0, 50}, {0, 50}};
    ::setitimer(ITIMER_REAL, &every, nullptr);
  }
  ~SignalStorm() {
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old_, nullptr);
  }
  SignalStorm(const SignalStorm&) = delete;
  SignalStorm& operator=(const SignalStorm&) = delete;

 private:
  struct sigaction old_ {};
};

using gort_test::Child;
using gort_test::in_child;

// Yields until some goroutine is parked for @p why (seen in a snapshot).
void await_parked(gort::WaitReason why) {
  for (;;) {
    for (const auto& g : gort::debug::snapshot().goroutines) {
      if (g.status == gort::GStatus::waiting && g.wait_reason == why) return;
    }
    gort::yield();
  }
}

// Spins until pred() holds, yielding now and then so that it also ends
// when the goroutine it waits for is queued behind it on the same P.
template <class Pred>
void spin_until(Pred pred) {
  for (unsigned i = 1; !pred(); ++i) {
    if (i % 64 == 0) gort::yield();
  }
}

// One round of "the waiter frees the WaitGroup as soon as wait() returns":
// two goroutines call done() as soon as the waiter is ready, and the waiter
// calls wait() as soon as they are about to, so the last done() and the
// wait() overlap on two Ps (the waiter sometimes parks, sometimes finds the
// counter already zero).
template <class Free>
void waitgroup_round(gort::WaitGroup* wg, Free free_it) {
  std::atomic<int> phase{0};  // 1: waiter ready; +1 per goroutine about to call done()
  wg->add(2);
  for (int k = 0; k < 2; ++k) {
    gort::go([wg, &phase] {
      spin_until([&] { return phase.load(std::memory_order_acquire) >= 1; });
      phase.fetch_add(1, std::memory_order_acq_rel);
      wg->done();
    });
  }
  phase.store(1, std::memory_order_release);
  spin_until([&] { return phase.load(std::memory_order_acquire) == 3; });
  wg->wait();
  free_it(wg);
}

// One round of "the goroutine that takes the Mutex last frees it". Main
// holds the mutex while a second goroutine starts to lock it, then lets go,
// so that goroutine gets it either through lock()'s slow path or by
// hand-off; main then takes it back with try_lock() the moment that
// goroutine's unlock() lets go (while that unlock() may still be running on
// the other P), and frees it right after its own unlock().
// Returns the number of turns counted under the lock (2).
template <class Free>
int mutex_round(gort::Mutex* mu, Free free_it) {
  int turns = 0;  // guarded by *mu
  std::atomic<int> phase{0};
  gort::WaitGroup wg;
  mu->lock();
  wg.add();
  gort::go([&, mu] {
    phase.store(1, std::memory_order_release);
    mu->lock();
    phase.store(2, std::memory_order_release);
    ++turns;
    mu->unlock();
    wg.done();
  });
  spin_until([&] { return phase.load(std::memory_order_acquire) >= 1; });
  mu->unlock();
  spin_until([&] { return phase.load(std::memory_order_acquire) >= 2; });
  spin_until([&] { return mu->try_lock(); });
  int counted = ++turns;
  mu->unlock();
  free_it(mu);
  wg.wait();
  return counted;
}

}  // namespace

TEST_CASE("regress waitgroup: the last done() never touches a WaitGroup its waiter unmapped") {
  // A late access faults (the process dies); the count shows every round ran.
  std::size_t rounds = 0;
#if !defined(GORT_TSAN) && !defined(GORT_ASAN)
  SignalStorm storm;
#endif
  for (int procs : {2, 4}) {
    PageRun pages(kRounds);
    gort::run(
        [&] {
          for (std::size_t i = 0; i < pages.size(); ++i) {
            waitgroup_round(new (pages.page(i)) gort::WaitGroup, [&, i](gort::WaitGroup* wg) {
              wg->~WaitGroup();
              pages.unmap(i);
              ++rounds;
            });
          }
        },
        {.procs = procs});
  }
  CHECK(rounds == 2 * std::size_t{kRounds});
}

TEST_CASE("regress waitgroup: the waiter may delete the WaitGroup (ASan/TSan see the heap)") {
  int rounds = 0;
  gort::run(
      [&] {
        for (int i = 0; i < kRounds; ++i) {
          waitgroup_round(new gort::WaitGroup, [&](gort::WaitGroup* wg) {
            delete wg;
            ++rounds;
          });
        }
      },
      {.procs = 2});
  CHECK(rounds == kRounds);
}

TEST_CASE("regress mutex: unlock() never touches a Mutex its last owner unmapped") {
  int bad_rounds = 0;
#if !defined(GORT_TSAN) && !defined(GORT_ASAN)
  SignalStorm storm;
#endif
  for (int procs : {2, 4}) {
    PageRun pages(kRounds);
    gort::run(
        [&] {
          for (std::size_t i = 0; i < pages.size(); ++i) {
            int turns = mutex_round(new (pages.page(i)) gort::Mutex, [&, i](gort::Mutex* mu) {
              mu->~Mutex();
              pages.unmap(i);
            });
            bad_rounds += turns != 2;
          }
        },
        {.procs = procs});
  }
  CHECK_MESSAGE(bad_rounds == 0, bad_rounds, " rounds lost or doubled a turn");
}

TEST_CASE("regress mutex: the last owner may delete the Mutex (ASan/TSan see the heap)") {
  int bad_rounds = 0;
  gort::run(
      [&] {
        for (int i = 0; i < kMutexHeapRounds; ++i) {
          bad_rounds += mutex_round(new gort::Mutex, [](gort::Mutex* mu) { delete mu; }) != 2;
        }
      },
      {.procs = 2});
  CHECK(bad_rounds == 0);
}

TEST_CASE(
    "regress waitgroup: done() from a plain thread with a waiter throws and changes nothing") {
  // In a child: before the fix the waiter was stranded and the second
  // done() drove the counter negative (panic, exit 2).
  auto r = in_child([] {
    bool threw = false;
    bool released = false;
    gort::run(
        [&] {
          gort::WaitGroup wg;
          gort::WaitGroup finished;
          wg.add();
          finished.add();
          gort::go([&] {
            wg.wait();
            released = true;
            finished.done();
          });
          await_parked(gort::WaitReason::wait_group);
          std::thread t([&] {
            try {
              wg.done();
            } catch (const std::logic_error&) {
              threw = true;
            }
          });
          t.join();
          wg.done();  // the legitimate last done(): the waiter still waits for it
          finished.wait();
        },
        {.procs = 1});
    if (!threw) ::_exit(10);
    if (!released) ::_exit(11);
  });
  CHECK_MESSAGE(r.code == 0, "exit ", r.code, " (10: no throw, 11: waiter not released)\n", r.err);
}

TEST_CASE("regress mutex: unlock() from a plain thread with a waiter throws and changes nothing") {
  // In a child: before the fix the waiter was handed a lock nobody would
  // ever wake it for, and the run ended in "all goroutines are asleep".
  auto r = in_child([] {
    bool threw = false;
    int got_lock = 0;
    gort::Mutex mu;
    if (!mu.try_lock()) ::_exit(13);  // held by this plain thread
    gort::run(
        [&] {
          gort::WaitGroup finished;
          finished.add();
          gort::go([&] {
            mu.lock();
            ++got_lock;
            mu.unlock();
            finished.done();
          });
          await_parked(gort::WaitReason::mutex);
          std::thread t([&] {
            try {
              mu.unlock();
            } catch (const std::logic_error&) {
              threw = true;
            }
          });
          t.join();
          mu.unlock();  // the legitimate release hands the lock to the waiter
          finished.wait();
          if (!mu.try_lock()) ::_exit(12);  // free again once the waiter is done
          mu.unlock();
        },
        {.procs = 1});
    if (!threw) ::_exit(10);
    if (got_lock != 1) ::_exit(11);
  });
  CHECK_MESSAGE(r.code == 0, "exit ", r.code,
                " (10: no throw, 11: waiter never got the lock, 12: lock left held)\n", r.err);
}
