// Lab 01 grader — task 3, FutexMutex.
//
// std::thread is used here (not gort::os::Thread) so that task 3 is graded
// on its own. Mutual exclusion is checked by invariants — a counter that
// must be conserved and a detector of two owners at once — never by timing.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "gort_grader.hpp"
#include "lab01_test_util.hpp"
#include "os/futex_mutex.hpp"

using gort::os::FutexMutex;

GRADED_TEST("mutex: mutual exclusion under contention", 12, "Task 3") {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 100000;  // per thread and round
  constexpr int kMaxRounds = 8;        // more rounds only while nothing went wrong
  FutexMutex mu;
  long counter = 0;              // protected by mu
  std::atomic<int> inside{0};    // how many threads are in the critical section
  std::atomic<int> overlaps{0};  // times somebody found another owner inside
  mu.lock();                     // fail here, cleanly, if the mutex is unfinished
  mu.unlock();
  // Spread the threads over the CPUs we may use, so that they really run at
  // the same time: threads that wake each other through a futex otherwise
  // tend to end up on one CPU, where a broken lock is rarely caught. On a
  // busy machine the threads overlap less, so the test runs several rounds,
  // stopping at the first sign of two owners at once.
  const std::vector<int> cpus = lab01_test::allowed_cpus();
  int rounds = 0;
  long expected = 0;
  while (rounds < kMaxRounds && overlaps.load() == 0 && counter == expected) {
    ++rounds;
    expected += long{kThreads} * kIncrements;
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        lab01_test::pin_current_thread(cpus[t % cpus.size()]);
        ready.fetch_add(1);
        while (ready.load() < kThreads) {
        }  // start together
        volatile int spin = 0;
        for (int i = 0; i < kIncrements; ++i) {
          mu.lock();
          if (inside.fetch_add(1, std::memory_order_relaxed) != 0) {
            overlaps.fetch_add(1, std::memory_order_relaxed);
          }
          // A read-modify-write spread over a short busy loop, so that two
          // owners at once very likely meet inside and lose an increment.
          long v = counter;
          for (int k = 0; k < 32; ++k) spin = spin + 1;
          counter = v + 1;
          inside.fetch_sub(1, std::memory_order_relaxed);
          mu.unlock();
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  INFO("after " << rounds << " round(s) of " << kThreads << " threads x " << kIncrements
                << " lock/unlock");
  CHECK_MESSAGE(overlaps.load() == 0,
                "two threads held the mutex at the same time " << overlaps.load() << " times");
  CHECK_MESSAGE(counter == expected, "increments were lost: the counter is "
                                         << counter << ", expected " << expected
                                         << " (the lock is not mutually exclusive)");
  CHECK_MESSAGE(mu.try_lock(), "after all threads unlocked, the mutex must be free again");
  mu.unlock();
}

GRADED_TEST("mutex: try_lock takes a free mutex and never blocks on a held one", 6, "Task 3") {
  FutexMutex mu;
  CHECK_MESSAGE(mu.try_lock(), "try_lock on a free mutex must succeed");
  CHECK_MESSAGE(!mu.try_lock(), "try_lock on a held mutex must fail (it is not recursive)");
  bool other_got_it = true;
  std::thread([&] { other_got_it = mu.try_lock(); }).join();
  CHECK_MESSAGE(!other_got_it, "another thread's try_lock must fail while the mutex is held");
  mu.unlock();
  std::thread([&] {
    other_got_it = mu.try_lock();
    if (other_got_it) mu.unlock();
  }).join();
  CHECK_MESSAGE(other_got_it, "after unlock(), another thread's try_lock must succeed");
  {
    std::lock_guard<FutexMutex> guard(mu);  // lock() then unlock() via the guard
    CHECK_MESSAGE(!mu.try_lock(), "try_lock must fail while lock() holds the mutex");
  }
  CHECK_MESSAGE(mu.try_lock(), "after lock() and unlock() the mutex must be free");
  mu.unlock();
}

GRADED_TEST("mutex: unlock wakes a thread sleeping in lock", 4, "Task 3") {
  // The main thread holds the mutex; a waiter calls lock(). We wait until the
  // kernel shows the waiter asleep (state 'S' in /proc: it is in futex_wait),
  // then unlock: the waiter must be woken and get the mutex.
  FutexMutex mu;
  mu.lock();
  std::atomic<pid_t> waiter_tid{0};
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    waiter_tid.store(lab01_test::gettid_raw());
    mu.lock();
    acquired.store(true);
    mu.unlock();
  });
  while (waiter_tid.load() == 0) std::this_thread::yield();
  bool slept = false;
  for (long polls = 0; polls < 300000 && !slept; ++polls) {
    slept = lab01_test::thread_state(waiter_tid.load()) == 'S';
    if (!slept) std::this_thread::yield();
  }
  CHECK_MESSAGE(!acquired.load(), "lock() returned while another thread held the mutex");
  CHECK_MESSAGE(slept,
                "a thread waiting in lock() never went to sleep in the kernel: after a "
                "short spin, lock() must futex_wait instead of spinning forever");
  mu.unlock();
  waiter.join();  // hangs (and the harness says so) if unlock() did not wake it
  CHECK_MESSAGE(acquired.load(), "the waiter did not get the mutex after unlock()");
}
