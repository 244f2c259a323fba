// bench_driver — runs gort, Go and Boost.Fiber side by side (`make bench`).
//
// Usage: bench_driver [NAME=PROGRAM ...]
//   Without arguments: gort, go and fiber at the paths CMake compiled in
//   (GORT_BENCH_GORT/GO/FIBER). Each PROGRAM takes one figure name and prints `figure value unit`
//   (bench_gort, gort_bench_go, bench_fiber). A PROGRAM given as "-" means
//   "not available here" (Go or Boost.Fiber not installed): the driver says
//   so and measures the others.
// Environment: BENCH_REPS (default 5) repetitions; BENCH_FIGURES (comma list)
//   to run a subset. An argument --figures=a,b names the figures instead, for
//   programs with other figures (select_bench); BENCH_FIGURES then selects
//   among those (none selected: the driver says so and exits 0).
//
// Method: for each repetition, for each figure, every implementation runs
// once, one after another (alternating, so a noisy neighbour or a thermal
// drift hits all three alike); each run is a fresh process. The driver
// prints the median of the K values per implementation as
// `<figure>_<impl> value unit`, then `#` lines with the gort/other ratios
// and whether gort reached the target. Timing is never asserted:
// a missed target is reported, not failed.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

struct Impl {
  std::string name;
  std::string program;  // empty: unavailable
};

struct Target {
  const char* figure;
  const char* text;
  double limit;            // gort's value must be <= limit (absolute) ...
  const char* versus = 0;  // ... or <= limit × versus's value when set
};

// The issues' goals for the finished runtime (single-P hot paths: issue 10).
const Target kTargets[] = {
    {"yield_1p", "<= 25 ns per yield", 25},
    {"pingpong_1p", "<= 120 ns per round trip", 120},
    {"spawn_1p", "<= 50 ns per goroutine", 50},
    {"skynet_1p", "<= 0.5x Go's time", 0.5, "go"},
    {"skynet_2p", "<= 0.5x Go's time", 0.5, "go"},
    {"mem_blocked_1m", "<= 4.5 KiB per goroutine", 4.5},
    {"fib_2p", "<= 0.7x Go's time", 0.7, "go"},
    // select and timers (issue 12; bench/select_bench.cpp)
    {"select_ready_1p", "<= 0.7x Go's time", 0.7, "go"},
    {"select_park_1p", "<= 0.7x Go's time", 0.7, "go"},
    {"select_park_2p", "<= 0.7x Go's time", 0.7, "go"},
};

bool run_one(const Impl& impl, const std::string& figure, double* value, std::string* unit) {
  std::string cmd = "timeout 600 '" + impl.program + "' " + figure;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  char buf[512];
  bool ok = false;
  while (std::fgets(buf, sizeof buf, p)) {
    std::istringstream line(buf);
    std::string name, u;
    double v;
    if (line >> name >> v >> u && name == figure) {
      *value = v;
      *unit = u;
      ok = true;
    }
  }
  int status = pclose(p);
  return ok && status == 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
#if defined(GORT_BENCH_GORT) && defined(GORT_BENCH_GO) && defined(GORT_BENCH_FIBER)
  if (args.empty()) {
    args = {std::string("gort=") + GORT_BENCH_GORT, std::string("go=") + GORT_BENCH_GO,
            std::string("fiber=") + GORT_BENCH_FIBER};
  }
#endif
  std::vector<Impl> impls;
  std::string figure_arg;
  for (const std::string& arg : args) {
    if (arg.rfind("--figures=", 0) == 0) {
      figure_arg = arg.substr(10);
      continue;
    }
    auto eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "usage: %s NAME=PROGRAM ...\n", argv[0]);
      return 2;
    }
    Impl impl{arg.substr(0, eq), arg.substr(eq + 1)};
    if (impl.program == "-" || impl.program.empty()) {
      std::printf("# %s: not available on this machine (%s), measuring without it\n",
                  impl.name.c_str(),
                  impl.name == "go" ? "install golang-go and re-run cmake"
                                    : "install libboost-fiber-dev and re-run cmake");
      continue;
    }
    impls.push_back(impl);
  }
  int reps = 5;
  if (const char* r = std::getenv("BENCH_REPS")) reps = std::max(1, std::atoi(r));
  auto split = [](const char* list) {
    std::vector<std::string> out;
    std::stringstream ss(list);
    for (std::string s; std::getline(ss, s, ',');)
      if (!s.empty()) out.push_back(s);
    return out;
  };
  std::vector<std::string> figures;
  if (!figure_arg.empty()) {
    // This program's own figures; BENCH_FIGURES then picks among them (and
    // may pick none of them: nothing to do, not an error).
    figures = split(figure_arg.c_str());
    if (const char* f = std::getenv("BENCH_FIGURES")) {
      std::vector<std::string> wanted = split(f);
      std::erase_if(figures, [&](const std::string& x) {
        return std::find(wanted.begin(), wanted.end(), x) == wanted.end();
      });
      if (figures.empty()) {
        std::printf("# none of %s is in BENCH_FIGURES: nothing to measure\n", figure_arg.c_str());
        return 0;
      }
    }
  } else if (const char* f = std::getenv("BENCH_FIGURES")) {
    figures = split(f);
  } else {
    for (const char* f : gort_bench::kFigures) figures.push_back(f);
  }

  std::printf("# side-by-side: %d repetitions, medians; implementations:", reps);
  for (auto& i : impls) std::printf(" %s", i.name.c_str());
  std::printf("\n");
  std::fflush(stdout);

  const bool progress = isatty(2);
  std::map<std::string, std::map<std::string, std::vector<double>>> values;
  std::map<std::string, std::string> units;
  for (int rep = 0; rep < reps; ++rep) {
    for (auto& fig : figures) {
      for (auto& impl : impls) {
        double v = 0;
        std::string u;
        if (run_one(impl, fig, &v, &u)) {
          values[fig][impl.name].push_back(v);
          units[fig] = u;
        } else {
          std::fprintf(stderr, "bench_driver: %s %s failed (run '%s %s' to see why)\n",
                       impl.name.c_str(), fig.c_str(), impl.program.c_str(), fig.c_str());
        }
      }
      if (progress) std::fprintf(stderr, "\r  repetition %d/%d %-16s", rep + 1, reps, fig.c_str());
    }
  }
  if (progress) std::fprintf(stderr, "\r%60s\r", "");

  std::map<std::string, std::map<std::string, double>> med;
  for (auto& fig : figures) {
    for (auto& impl : impls) {
      auto& v = values[fig][impl.name];
      if (v.empty()) continue;
      double m = median(v);
      med[fig][impl.name] = m;
      std::printf("%s_%s %.2f %s\n", fig.c_str(), impl.name.c_str(), m, units[fig].c_str());
    }
  }
  int failed = 0;
  for (auto& fig : figures) {
    if (!med[fig].count("gort")) {
      ++failed;
      continue;
    }
    double g = med[fig]["gort"];
    for (auto& impl : impls) {
      if (impl.name == "gort" || !med[fig].count(impl.name)) continue;
      std::printf("# %s gort/%s %.2fx\n", fig.c_str(), impl.name.c_str(), g / med[fig][impl.name]);
    }
  }
  for (auto& t : kTargets) {
    if (!med[t.figure].count("gort")) continue;
    double g = med[t.figure]["gort"];
    double limit = t.limit;
    if (t.versus) {
      if (!med[t.figure].count(t.versus)) {
        std::printf("# target %s %s: cannot check (%s not measured)\n", t.figure, t.text, t.versus);
        continue;
      }
      limit *= med[t.figure][t.versus];
    }
    std::printf("# target %s %s: %s (gort %.2f %s, limit %.2f)\n", t.figure, t.text,
                g <= limit ? "met" : "MISSED", g, units[t.figure].c_str(), limit);
  }
  // A benchmark that could not run at all is an error; a slow one is not.
  return failed ? 1 : 0;
}
