// The OS-thread switch baseline: two threads bouncing two futex Notes.
//
// Each round trip, thread A wakes B's note and sleeps on its own; B sleeps,
// wakes A. Every one-way hand-off is a futex_wake by one thread and the
// return from futex_wait of the other: on one CPU that is a full kernel
// context switch (enter the kernel, run the scheduler, save and restore the
// whole register file, return to user space). Lab 02 measures its user-space
// switch against this figure in its own run, so this header is shared.
//
// With same_cpu both threads are pinned to one CPU (the first the process may
// use): then every hand-off really is a switch on that CPU, which is the
// figure to compare a user-space switch with. Without it the threads may sit
// on two CPUs and the figure is a cross-CPU wake-up (an IPI, and often an
// idle CPU waking up) instead.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "os/note.hpp"
#include "os/os_thread.hpp"

namespace gort::bench {

/// Pins the calling thread to CPU @p cpu. Returns false if not allowed.
inline bool pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/// The lowest-numbered CPU this process may run on (0 if unknown).
inline int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return 0;
}

/// How many other threads on the machine are runnable right now (from the
/// fourth field of /proc/loadavg, minus the caller), or -1 if unknown.
/// Benchmarks print it: a figure measured while other programs compete for
/// the CPUs is not a baseline. (The load average itself decays over minutes,
/// so it still counts our own earlier bursts of threads.)
inline int other_runnable_threads() {
  double l1, l5, l15;
  int running = 0, total = 0;
  int got = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    got = std::fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total);
    std::fclose(f);
  }
  return got == 5 ? running - 1 : -1;
}

/// Runs @p round_trips round trips between two new OS threads bouncing two
/// Notes and returns the mean nanoseconds per one-way switch (a round trip is
/// two switches). With @p same_cpu, both threads are pinned to one CPU.
/// Blocks the caller until both threads are joined. Throws what
/// gort::os::Thread throws.
inline double futex_pingpong_ns_per_switch(long round_trips, bool same_cpu = true) {
  using clock = std::chrono::steady_clock;
  gort::os::Note to_b, to_a, ready_a, ready_b, go;
  const int cpu = first_allowed_cpu();
  double elapsed_ns = 0;
  gort::os::Thread b(
      [&] {
        if (same_cpu) pin_current_thread(cpu);
        ready_b.wakeup();
        for (long i = 0; i < round_trips; ++i) {
          to_b.sleep();
          to_b.clear();  // A wakes to_b again only after we wake to_a
          to_a.wakeup();
        }
      },
      {64 * 1024, "pingpong-b"});
  gort::os::Thread a(
      [&] {
        if (same_cpu) pin_current_thread(cpu);
        ready_b.sleep();
        ready_a.wakeup();
        go.sleep();
        auto start = clock::now();
        for (long i = 0; i < round_trips; ++i) {
          to_b.wakeup();
          to_a.sleep();
          to_a.clear();
        }
        elapsed_ns = std::chrono::duration<double, std::nano>(clock::now() - start).count();
      },
      {64 * 1024, "pingpong-a"});
  ready_a.sleep();
  go.wakeup();
  a.join();
  b.join();
  return elapsed_ns / (2.0 * static_cast<double>(round_trips));
}

}  // namespace gort::bench
