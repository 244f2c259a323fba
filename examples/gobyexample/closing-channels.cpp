// Go by Example, "Closing Channels", on gort (the Go original:
// closing-channels.go). Closing the jobs channel tells the worker that no
// more jobs come; a receive from a closed, drained channel returns at once.
// Go's output interleaves "sent" and "received" lines by scheduling: compared
// as a multiset, each side's lines in order.
#include <cstdio>

#include "gort/gort.hpp"

int main() {
  return gort::run([] {
    gort::Chan<int> jobs(5);
    gort::Chan<bool> done;

    gort::go([jobs, done] {
      for (;;) {
        // `j, more := <-jobs`: the optional is empty once jobs is closed
        // and drained.
        if (std::optional<int> j = jobs.recv()) {
          std::printf("received job %d\n", *j);
        } else {
          std::printf("received all jobs\n");
          done.send(true);
          return;
        }
      }
    });

    for (int j = 1; j <= 3; j++) {
      jobs.send(j);
      std::printf("sent job %d\n", j);
    }
    jobs.close();
    std::printf("sent all jobs\n");

    done.recv();

    bool ok = jobs.recv().has_value();
    std::printf("received more jobs: %s\n", ok ? "true" : "false");
  });
}
