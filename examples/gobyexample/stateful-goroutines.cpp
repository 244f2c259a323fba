// Go by Example, "Stateful Goroutines", on gort (the Go original:
// stateful-goroutines.go). One goroutine owns a map; 100 readers and 10
// writers reach it only through requests on channels, each request carrying
// its own reply channel. The counts depend on timing: compared with Go with
// the numbers masked.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>

#include "gort/gort.hpp"

using namespace std::chrono_literals;

struct ReadOp {
  int key;
  gort::Chan<int> resp;
};
struct WriteOp {
  int key;
  int val;
  gort::Chan<bool> resp;
};

// Go's rand.Intn. One generator per OS thread: goroutines may move between
// threads, which only mixes the sequences.
static int rand_intn(int n) {
  thread_local std::minstd_rand gen{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, n - 1)(gen);
}

// Static, not locals of main: the readers and writers still run when main
// returns (Go's garbage collector keeps what they use alive; here nothing
// would, so they use what outlives main).
static std::atomic<std::uint64_t> read_ops{0};
static std::atomic<std::uint64_t> write_ops{0};

int main() {
  return gort::run([] {
    gort::Chan<ReadOp> reads;
    gort::Chan<WriteOp> writes;

    // reads and writes are never closed, so each handler's optional holds a
    // request.
    gort::go([reads, writes] {
      std::map<int, int> state;
      for (;;) {
        gort::select(
            gort::recv(reads,
                       [&](std::optional<ReadOp> read) {
                         const ReadOp& r = read.value();
                         r.resp.send(state[r.key]);
                       }),
            gort::recv(writes, [&](std::optional<WriteOp> write) {
              const WriteOp& w =
                  write.value();  // value(), not ->: GCC -O2 warns maybe-uninitialized otherwise
              state[w.key] = w.val;
              w.resp.send(true);
            }));
      }
    });

    for (int r = 0; r < 100; r++) {
      gort::go([reads] {
        for (;;) {
          ReadOp read{.key = rand_intn(5), .resp = gort::Chan<int>()};
          reads.send(read);
          read.resp.recv();
          read_ops.fetch_add(1);
          gort::sleep_for(1ms);
        }
      });
    }

    for (int w = 0; w < 10; w++) {
      gort::go([writes] {
        for (;;) {
          WriteOp write{.key = rand_intn(5), .val = rand_intn(100), .resp = gort::Chan<bool>()};
          writes.send(write);
          write.resp.recv();
          write_ops.fetch_add(1);
          gort::sleep_for(1ms);
        }
      });
    }

    gort::sleep_for(100ms);

    std::uint64_t read_ops_final = read_ops.load();
    std::printf("readOps: %llu\n", static_cast<unsigned long long>(read_ops_final));
    std::uint64_t write_ops_final = write_ops.load();
    std::printf("writeOps: %llu\n", static_cast<unsigned long long>(write_ops_final));
  });
}
