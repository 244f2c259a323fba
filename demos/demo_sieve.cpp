// Demo: the concurrent prime sieve — a daisy chain of filter goroutines.
//
// A generator goroutine sends 2, 3, 4, ... on a channel. main takes the first
// number from the head of the chain: it is prime. It then splices a new filter
// goroutine onto the chain that drops multiples of that prime, and reads the
// next number from the filter's output, and so on. After N primes the chain
// has N filters, each blocked on an unbuffered channel receive or send most of
// the time: a pipeline of N+1 goroutines that exchange every number by
// rendezvous. The point is not speed (trial division is faster) but to see
// goroutines as cheap building blocks connected by channels.
//
// Usage: demo_sieve [N] (default 30). The primes are checked against trial
// division; a wrong prime exits 1.
#include <gort/gort.hpp>

#include <cstdio>
#include <cstdlib>

namespace {

void generate(gort::Chan<long> out) {
  for (long i = 2;; ++i) out.send(i);  // blocks on each send; abandoned when main returns
}

void filter(gort::Chan<long> in, gort::Chan<long> out, long prime) {
  while (auto v = in.recv()) {
    if (*v % prime != 0) out.send(*v);
  }
}

bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 30;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [N > 0]\n", argv[0]);
    return 2;
  }
  std::printf("The first %d primes from a chain of filter goroutines:\n  ", n);
  int wrong = 0;
  long last = 1;
  gort::run([&] {
    gort::Chan<long> ch;
    gort::go(generate, ch);
    for (int i = 0; i < n; ++i) {
      long prime = *ch.recv();
      std::printf("%ld%s", prime, i + 1 == n ? "\n" : (i + 1) % 15 == 0 ? "\n  " : " ");
      // Every prime between the previous one and this one must have come out.
      for (long k = last + 1; k < prime; ++k) wrong += is_prime(k);
      wrong += !is_prime(prime);
      last = prime;
      gort::Chan<long> next;
      gort::go(filter, ch, next, prime);
      ch = next;
    }
    auto s = gort::debug::stats();
    std::printf(
        "\n%llu goroutines were created (1 generator + 1 filter per prime + main); %llu\n"
        "context switches carried the numbers down the chain. Each number %ld..%ld\n"
        "passed through one rendezvous per filter it survived: unbuffered channels\n"
        "hand the value straight from the sender's stack to the parked receiver.\n"
        "When main returns, the generator and the filters are still blocked; like Go,\n"
        "gort simply abandons them.\n",
        static_cast<unsigned long long>(s.goroutines_created),
        static_cast<unsigned long long>(s.context_switches), 2L, last);
    std::printf(
        "The scheduler decided because of: %llu go statements, %llu channel/sync parks,\n"
        "%llu yields, %llu exits, %llu sleeps (gort::debug::Stats::sched_*; see every\n"
        "one of them with GORT_TRACE=sieve.json, docs/TRACING.md).\n",
        static_cast<unsigned long long>(s.sched_go), static_cast<unsigned long long>(s.sched_sync),
        static_cast<unsigned long long>(s.sched_yield),
        static_cast<unsigned long long>(s.sched_exit),
        static_cast<unsigned long long>(s.sched_sleep));
  });
  if (wrong) {
    std::printf("WRONG: %d numbers were misclassified\n", wrong);
    return 1;
  }
  return 0;
}
