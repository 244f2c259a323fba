// The execution trace, schedtrace and the decision counters (issue 11); see
// rt/trace.hpp for what each is and where the scheduler calls it.
//
// Recording: each thread that emits gets its own Buffer (found through a
// thread_local pointer checked against the run's generation, registered
// once under reg_lock), a list of fixed-size chunks of 32-byte Events: an
// emit is a clock read and a few stores, no lock and no shared write.
// Writing: end_run(), after every M has been joined (so every buffer is
// quiescent and published by the join), merges the buffers by timestamp and
// replays the events through a small model of the scheduler (which G runs
// on which M and P, each G's state) to produce Chrome trace-event JSON.
#include "rt/trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gort/gort.hpp"
#include "rt/runq.hpp"
#include "rt/sched.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#if defined(GORT_TSAN)
// schedtrace's detailed lines read owner-written plain fields (schedtick,
// gfree_count, curg...) racily, as Go's schedtrace does (and debug.cpp).
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#define GORT_RACY_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define GORT_RACY_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define GORT_RACY_READS_BEGIN() ((void)0)
#define GORT_RACY_READS_END() ((void)0)
#endif

namespace gort::rt::trace {

std::atomic<bool> enabled{false};
CauseCounts* cause_counts = nullptr;
bool seeded = false;

namespace {

// ---- recording -----------------------------------------------------------------

enum Kind : std::uint8_t {
  kCreate,     // g created by arg (0: the runtime)
  kRun,        // g starts running
  kPark,       // g parks, extra = WaitReason
  kReady,      // g made runnable by arg (0: the scheduler), extra = ReadyCause
  kEvYield,    // g yields (to the tail of its P's ring)
  kPreempted,  // g is preempted
  kEvExit,     // g finishes
  kSteal,      // g (and arg - 1 others) stolen by the P of the event
  kSpinOn,
  kSpinOff,
  kIdleOn,
  kIdleOff,
  kPAcquire,  // arg = P id
  kPRelease,  // arg = P id
  kSysEnter,
  kSysExit,
  kHandoff,  // arg = P id
  kOther,    // g: status extra>>4 -> extra&15
};

struct Event {
  std::int64_t ts;
  std::uint64_t g;
  std::uint64_t arg;
  std::int32_t m;
  std::int16_t p;
  std::uint8_t kind;
  std::uint8_t extra;
};
static_assert(sizeof(Event) == 32);

constexpr std::size_t kChunk = 8192;              // events per chunk (256 KiB)
constexpr std::size_t kMaxChunksPerBuffer = 512;  // 4M events (128 MiB) per thread

struct Buffer {
  std::vector<std::unique_ptr<Event[]>> chunks;
  std::size_t used = kChunk;  // events in the last chunk (kChunk: none yet)
  std::uint64_t dropped = 0;
  int index = 0;  // registration order (tracks of non-M threads)
};

std::atomic<std::uint64_t> generation{0};  // bumped by every traced run
thread_local Buffer* tls_buf = nullptr;
thread_local std::uint64_t tls_gen = 0;
thread_local std::uint64_t tls_preempt_g = 0;  // next running -> runnable of it is a preemption

std::mutex reg_lock;                           // buffers, next fields
std::vector<std::unique_ptr<Buffer>> buffers;  // this run's
std::atomic<std::uint64_t> dropped_total{0};   // events lost to allocation failures

std::FILE* out = nullptr;  // the open trace file of this run
std::string out_path;
long run_seed = 0;                        // GORT_SEED of this run (0: none)
std::int64_t t0 = 0;                      // boot time
std::map<std::string, int> traced_paths;  // runs traced to each path by this process
int run_procs = 0;

// Timestamps: the CPU's cycle counter where the kernel itself trusts it as
// its clock (x86-64 with the "tsc" clocksource: invariant and synchronised
// across CPUs; aarch64's virtual counter), else nanotime(). The counter is
// several times cheaper to read than clock_gettime in a VM; end_run()
// converts ticks to nanoseconds by the two clock readings it brackets the
// run with. rdtscp / isb wait for the instructions before them, so a
// timestamp taken after observing another thread's event is not earlier
// than that event's.
bool use_ticks = false;
std::int64_t tick0 = 0;  // ticks at boot (with t0)

std::int64_t ticks() noexcept {
#if defined(__x86_64__)
  if (use_ticks) {
    unsigned aux;
    return static_cast<std::int64_t>(__rdtscp(&aux));
  }
#elif defined(__aarch64__)
  if (use_ticks) {
    std::uint64_t v;
    asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return static_cast<std::int64_t>(v);
  }
#endif
  return nanotime();
}

bool ticks_usable() noexcept {
#if defined(__x86_64__)
  std::FILE* f =
      std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
  if (f == nullptr) return false;
  char buf[32] = {};
  bool tsc = std::fgets(buf, sizeof buf, f) != nullptr && std::strncmp(buf, "tsc", 3) == 0;
  std::fclose(f);
  return tsc;
#elif defined(__aarch64__)
  return true;
#else
  return false;
#endif
}

Buffer* buffer() noexcept {
  std::uint64_t gen = generation.load(std::memory_order_acquire);
  if (tls_gen == gen && tls_buf != nullptr) return tls_buf;
  try {
    auto b = std::make_unique<Buffer>();
    b->chunks.reserve(kMaxChunksPerBuffer);  // never reallocated: exit_now() reads it racily
    std::lock_guard<std::mutex> lk(reg_lock);
    if (generation.load(std::memory_order_relaxed) != gen) return nullptr;
    b->index = static_cast<int>(buffers.size());
    buffers.push_back(std::move(b));
    tls_buf = buffers.back().get();
    tls_gen = gen;
    return tls_buf;
  } catch (...) {
    return nullptr;
  }
}

void record(Kind kind, std::uint64_t g, std::uint64_t arg, std::uint8_t extra,
            int p_override = -2) noexcept {
  Buffer* b = buffer();
  if (b == nullptr) {
    dropped_total.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (b->used == kChunk) {
    if (b->chunks.size() == kMaxChunksPerBuffer) {
      ++b->dropped;
      return;
    }
    try {
      b->chunks.emplace_back(new Event[kChunk]);
    } catch (...) {
      ++b->dropped;
      return;
    }
    b->used = 0;
  }
  M* m = current_m();
  P* p = m ? m->p : nullptr;
  Event& e = b->chunks.back()[b->used++];
  e.ts = ticks();
  e.g = g;
  e.arg = arg;
  e.m = m ? m->id : -1 - b->index;
  e.p = static_cast<std::int16_t>(p_override != -2 ? p_override : p ? p->id : -1);
  e.kind = kind;
  e.extra = extra;
}

std::uint64_t current_gid() noexcept {
  G* gp = current_g();
  return gp ? gp->id : 0;
}

// ---- schedtrace --------------------------------------------------------------------

std::thread st_thread;
std::mutex st_lock;
std::condition_variable st_cv;
bool st_stop = false;

void schedtrace_loop(std::int64_t interval_ms, bool detailed) {
  std::unique_lock<std::mutex> lk(st_lock);
  for (;;) {
    if (st_cv.wait_for(lk, std::chrono::milliseconds(interval_ms), [] { return st_stop; })) return;
    if (!sched.dumpable.load(std::memory_order_acquire)) continue;  // boot not finished
    lk.unlock();
    schedtrace(2, detailed);
    schedtrace_reports.fetch_add(1, std::memory_order_release);
    lk.lock();
  }
}

long env_number(const char* name, long lo, long hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v, &end, 10);
  if (*end != '\0' || errno != 0 || n < lo || n > hi) {
    throw std::invalid_argument(std::string(name) + " must be a number between " +
                                std::to_string(lo) + " and " + std::to_string(hi) + ", got '" + v +
                                "'");
  }
  return n;
}

// ---- writing the JSON ---------------------------------------------------------------

/// Go's numbers for G and P statuses (schedtrace prints them).
int go_gstatus(GStatus s) noexcept {
  switch (s) {
    case GStatus::idle:
      return 0;
    case GStatus::runnable:
      return 1;
    case GStatus::running:
      return 2;
    case GStatus::syscall:
      return 3;
    case GStatus::waiting:
      return 4;
    case GStatus::dead:
      return 6;
  }
  return 0;
}
int go_pstatus(PStatus s) noexcept { return s == PStatus::dead ? 4 : static_cast<int>(s); }

constexpr int kPidM = 1;  // "Ms": a track per M (and per thread that is not an M)
constexpr int kPidP = 2;  // "Ps": a track per P
constexpr int kPidG = 3;  // "Goroutines": a track per goroutine
// Track ids are unique across the three groups and never 0: Perfetto keys
// threads by tid alone, and tid 0 is Linux's idle task there.
constexpr long long kTidM = 1'000'000;      // + M id
constexpr long long kTidOther = 1'500'000;  // + registration index
constexpr long long kTidP = 2'000'000;      // + P id
constexpr long long kTidG = 3'000'000;      // + goroutine id
long long gtid(std::uint64_t g) { return kTidG + static_cast<long long>(g); }
/// Goroutines given a state track of their own (the first ones created).
constexpr std::size_t kMaxGTracks = 256;

class Writer {
 public:
  explicit Writer(std::FILE* f) : f_(f) {}

  void write(std::vector<Event>& ev, std::int64_t end, std::uint64_t dropped) {
    std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f_);
    meta_process(kPidM, "Ms (OS threads)", 0);
    meta_process(kPidP, "Ps (processors)", 1);
    meta_process(kPidG, "Goroutines", 2);
    for (int p = 0; p < run_procs; ++p) ptid(p);
    for (const Event& e : ev) step(e);
    finish(end);
    std::fprintf(f_,
                 "\n],\"otherData\":{\"generator\":\"gort\",\"procs\":%d,\"events\":%zu,"
                 "\"dropped\":%llu}}\n",
                 run_procs, ev.size(), static_cast<unsigned long long>(dropped));
  }

 private:
  struct Run {
    std::uint64_t g = 0;  // 0: none
    std::int64_t start = 0;
    int p = -1;
    std::uint64_t flow = 0;  // bind id of the ready that caused it
  };
  struct MState {
    Run run;
    std::int64_t spin = -1, idle = -1, sys = -1;
  };
  struct GState {
    GStatus st = GStatus::idle;
    std::int64_t since = 0;
    std::uint8_t reason = 0;
    std::uint64_t flow = 0;  // pending bind id for its next run
    int last_p = -1;         // P whose queue it was last put on
    bool track = false;
  };

  // -- output helpers
  void sep() {
    if (!first_) std::fputs(",\n", f_);
    first_ = false;
  }
  static void ts(std::FILE* f, std::int64_t ns) {
    if (ns < 0) ns = 0;
    std::fprintf(f, "%lld.%03lld", static_cast<long long>(ns / 1000),
                 static_cast<long long>(ns % 1000));
  }
  void meta_process(int pid, const char* name, int order) {
    sep();
    std::fprintf(f_,
                 "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,"
                 "\"args\":{\"name\":\"%s\"}}",
                 pid, name);
    sep();
    std::fprintf(f_,
                 "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,"
                 "\"args\":{\"sort_index\":%d}}",
                 pid, order);
  }
  void meta_thread(int pid, long long tid, const std::string& name) {
    sep();
    std::fprintf(f_,
                 "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,"
                 "\"args\":{\"name\":\"%s\"}}",
                 pid, tid, name.c_str());
    sep();
    std::fprintf(f_,
                 "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,"
                 "\"args\":{\"sort_index\":%lld}}",
                 pid, tid, tid);
  }
  long long mtid(int m) {
    long long tid = m >= 0 ? kTidM + m : kTidOther + (-1 - m);
    if (named_m_.insert({tid, true}).second) {
      meta_thread(kPidM, tid, m >= 0 ? "M" + std::to_string(m) : "thread " + std::to_string(-m));
    }
    return tid;
  }
  long long ptid(int p) {
    if (named_p_.insert({p, true}).second) meta_thread(kPidP, kTidP + p, "P" + std::to_string(p));
    return kTidP + p;
  }
  /// A complete slice ("X"). @p args: the inside of the args object, or "".
  void slice(int pid, long long tid, const std::string& name, const char* cat, std::int64_t b,
             std::int64_t e, const std::string& args, std::uint64_t flow_in = 0,
             std::uint64_t flow_out = 0) {
    sep();
    std::fprintf(f_, "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%lld,\"ts\":",
                 name.c_str(), cat, pid, tid);
    ts(f_, b - t0);
    std::fputs(",\"dur\":", f_);
    ts(f_, e > b ? e - b : 0);
    if (flow_in)
      std::fprintf(f_, ",\"bind_id\":%llu,\"flow_in\":true",
                   static_cast<unsigned long long>(flow_in));
    if (flow_out)
      std::fprintf(f_, ",\"bind_id\":%llu,\"flow_out\":true",
                   static_cast<unsigned long long>(flow_out));
    std::fprintf(f_, ",\"args\":{%s}}", args.c_str());
  }
  void instant(int pid, long long tid, const std::string& name, const char* cat, std::int64_t t,
               const std::string& args) {
    sep();
    std::fprintf(f_,
                 "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,"
                 "\"tid\":%lld,\"ts\":",
                 name.c_str(), cat, pid, tid);
    ts(f_, t - t0);
    std::fprintf(f_, ",\"args\":{%s}}", args.c_str());
  }
  static std::string gname(std::uint64_t g) { return "G" + std::to_string(g); }
  static std::string garg(std::uint64_t g) { return "\"g\":" + std::to_string(g); }

  // -- the model
  GState& gs(std::uint64_t g) {
    GState& s = g_[g];
    if (!s.track && g != 0 && g_tracks_ < kMaxGTracks && g_.size() <= kMaxGTracks * 4) {
      s.track = true;
      ++g_tracks_;
      meta_thread(kPidG, gtid(g), gname(g));
    }
    return s;
  }
  /// Moves g's state track to @p st at @p t (closing the previous state's slice).
  void gstate(std::uint64_t g, GStatus st, std::int64_t t, std::uint8_t reason = 0) {
    GState& s = gs(g);
    if (s.track && s.st != GStatus::idle && s.st != GStatus::dead) {
      std::string name = to_string(s.st);
      if (s.st == GStatus::waiting && s.reason != 0) {
        name += std::string(" (") + to_string(static_cast<WaitReason>(s.reason)) + ")";
      }
      slice(kPidG, gtid(g), name, "state", s.since, t, garg(g));
    }
    s.st = st;
    s.since = t;
    s.reason = reason;
  }
  void end_m_run(int m, std::int64_t t) {
    Run& r = m_[m].run;
    if (r.g == 0) return;
    std::string args = garg(r.g) + ",\"p\":" + std::to_string(r.p);
    slice(kPidM, mtid(m), gname(r.g), "run", r.start, t, args, r.flow);
    r = Run{};
  }
  void end_p_run(int p, std::int64_t t) {
    if (p < 0) return;
    Run& r = p_[p];
    if (r.g == 0) return;
    slice(kPidP, ptid(p), gname(r.g), "run", r.start, t, garg(r.g));
    r = Run{};
  }
  /// g stops running at t on the event's M and P (if it still runs there).
  void stop(const Event& e) {
    if (m_[e.m].run.g == e.g) end_m_run(e.m, e.ts);
    if (e.p >= 0 && p_[e.p].g == e.g) end_p_run(e.p, e.ts);
  }
  void flow_out(const Event& e, const std::string& name, const std::string& args) {
    std::uint64_t id = ++flows_;
    gs(e.g).flow = id;
    slice(kPidM, mtid(e.m), name, "flow", e.ts, e.ts, args, 0, id);
  }

  void step(const Event& e) {
    long long mt = mtid(e.m);
    switch (e.kind) {
      case kCreate: {
        gs(e.g).last_p = e.p;
        flow_out(e, "go " + gname(e.g), garg(e.g) + ",\"parent\":" + std::to_string(e.arg));
        gstate(e.g, GStatus::runnable, e.ts);
        break;
      }
      case kReady: {
        static const char* const kCause[] = {"ready ", "timer: ready ", "netpoll: ready "};
        gs(e.g).last_p = e.p;
        flow_out(e, kCause[e.extra < 3 ? e.extra : 0] + gname(e.g),
                 garg(e.g) + ",\"by\":" + std::to_string(e.arg));
        gstate(e.g, GStatus::runnable, e.ts);
        break;
      }
      case kRun: {
        end_m_run(e.m, e.ts);
        end_p_run(e.p, e.ts);
        GState& s = gs(e.g);
        m_[e.m].run = Run{e.g, e.ts, e.p, s.flow};
        s.flow = 0;
        if (e.p >= 0) p_[e.p] = Run{e.g, e.ts, e.p, 0};
        gstate(e.g, GStatus::running, e.ts);
        break;
      }
      case kPark: {
        stop(e);
        std::string r = to_string(static_cast<WaitReason>(e.extra));
        instant(kPidM, mt, "park " + gname(e.g) + (r.empty() ? "" : ": " + r), "park", e.ts,
                garg(e.g) + ",\"reason\":\"" + r + "\"");
        gstate(e.g, GStatus::waiting, e.ts, e.extra);
        break;
      }
      case kEvYield:
      case kPreempted: {
        stop(e);
        gs(e.g).last_p = e.p;
        instant(kPidM, mt, (e.kind == kEvYield ? "yield " : "preempted ") + gname(e.g),
                e.kind == kEvYield ? "yield" : "preempt", e.ts, garg(e.g));
        gstate(e.g, GStatus::runnable, e.ts);
        break;
      }
      case kEvExit: {
        stop(e);
        instant(kPidM, mt, "exit " + gname(e.g), "exit", e.ts, garg(e.g));
        gstate(e.g, GStatus::dead, e.ts);
        break;
      }
      case kSteal: {
        int victim = gs(e.g).last_p;
        std::string from = victim >= 0 ? " from P" + std::to_string(victim) : "";
        instant(kPidM, mt, "steal " + gname(e.g) + from, "steal", e.ts,
                garg(e.g) + ",\"n\":" + std::to_string(e.arg) +
                    ",\"victim\":" + std::to_string(victim) + ",\"thief\":" + std::to_string(e.p));
        gs(e.g).last_p = e.p;
        break;
      }
      case kSpinOn:
        if (m_[e.m].spin < 0) m_[e.m].spin = e.ts;
        break;
      case kSpinOff:
        if (m_[e.m].spin >= 0) slice(kPidM, mt, "spinning", "spin", m_[e.m].spin, e.ts, "");
        m_[e.m].spin = -1;
        break;
      case kIdleOn:
        end_spin(e.m, e.ts);
        if (m_[e.m].idle < 0) m_[e.m].idle = e.ts;
        break;
      case kIdleOff:
        if (m_[e.m].idle >= 0) slice(kPidM, mt, "idle (stopm)", "idle", m_[e.m].idle, e.ts, "");
        m_[e.m].idle = -1;
        break;
      case kPAcquire:
        instant(kPidP, ptid(static_cast<int>(e.arg)), "acquired by M" + std::to_string(e.m), "p",
                e.ts, "\"m\":" + std::to_string(e.m));
        break;
      case kPRelease:
        end_p_run(static_cast<int>(e.arg), e.ts);
        instant(kPidP, ptid(static_cast<int>(e.arg)), "idle", "p", e.ts, "");
        break;
      case kSysEnter:
        if (m_[e.m].sys < 0) m_[e.m].sys = e.ts;
        break;
      case kSysExit:
        if (m_[e.m].sys >= 0) {
          std::int64_t b = m_[e.m].sys;
          // Nested in the G's run slice when it is still open, else on its own.
          slice(kPidM, mt, "syscall", "syscall", b, e.ts, garg(e.g));
        }
        m_[e.m].sys = -1;
        break;
      case kHandoff:
        end_p_run(static_cast<int>(e.arg), e.ts);
        instant(kPidP, ptid(static_cast<int>(e.arg)), "handoff", "handoff", e.ts,
                "\"m\":" + std::to_string(e.m));
        break;
      default: {
        GStatus from = static_cast<GStatus>(e.extra >> 4), to = static_cast<GStatus>(e.extra & 15);
        instant(kPidM, mt, gname(e.g) + " " + to_string(from) + " -> " + to_string(to), "status",
                e.ts, garg(e.g));
        gstate(e.g, to, e.ts);
        break;
      }
    }
  }
  void end_spin(int m, std::int64_t t) {
    if (m_[m].spin >= 0) slice(kPidM, mtid(m), "spinning", "spin", m_[m].spin, t, "");
    m_[m].spin = -1;
  }
  void finish(std::int64_t end) {
    for (auto& [m, s] : m_) {
      end_m_run(m, end);
      end_spin(m, end);
      if (s.idle >= 0) slice(kPidM, mtid(m), "idle (stopm)", "idle", s.idle, end, "");
      s.idle = -1;
    }
    for (auto& [p, r] : p_) {
      (void)r;
      end_p_run(p, end);
    }
    for (auto& [g, s] : g_) {
      if (s.st != GStatus::dead && s.st != GStatus::idle) gstate(g, GStatus::dead, end);
    }
  }

  std::FILE* f_;
  bool first_ = true;
  std::uint64_t flows_ = 0;
  std::size_t g_tracks_ = 0;
  std::map<int, MState> m_;
  std::map<int, Run> p_;
  std::map<std::uint64_t, GState> g_;
  std::unordered_map<long long, bool> named_m_, named_p_;
};

/// "<stem>.<n><ext>" for the n-th traced run of the process (n > 1).
std::string nth_path(const std::string& path, int n) {
  if (n <= 1) return path;
  std::size_t slash = path.rfind('/');
  std::size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) dot = path.size();
  return path.substr(0, dot) + "." + std::to_string(n) + path.substr(dot);
}

}  // namespace

// ---- emitters ------------------------------------------------------------------------

void emit_status(const G* gp, GStatus from, GStatus to) noexcept {
  if (from == GStatus::dead && to == GStatus::runnable) {
    record(kCreate, gp->id, current_gid(), 0);
  } else if (from == GStatus::waiting && to == GStatus::runnable) {
    record(kReady, gp->id, current_gid(), static_cast<std::uint8_t>(ReadyCause::direct));
  } else if (from == GStatus::runnable && to == GStatus::running) {
    record(kRun, gp->id, 0, 0);
  } else if (from == GStatus::running && to == GStatus::waiting) {
    record(kPark, gp->id, 0, static_cast<std::uint8_t>(gp->wait_reason));
  } else if (from == GStatus::running && to == GStatus::runnable) {
    bool pre = tls_preempt_g == gp->id;
    tls_preempt_g = 0;
    record(pre ? kPreempted : kEvYield, gp->id, 0, 0);
  } else if (from == GStatus::running && to == GStatus::dead) {
    record(kEvExit, gp->id, 0, 0);
  } else if (from == GStatus::running && to == GStatus::syscall) {
    record(kSysEnter, gp->id, 0, 0);
  } else if (from == GStatus::syscall) {
    record(kSysExit, gp->id, 0, 0);
    if (to != GStatus::running) {
      record(kOther, gp->id, 0,
             static_cast<std::uint8_t>(static_cast<int>(from) << 4 | static_cast<int>(to)));
    }
  } else {
    record(kOther, gp->id, 0,
           static_cast<std::uint8_t>(static_cast<int>(from) << 4 | static_cast<int>(to)));
  }
}

void emit_ready(const G* gp, ReadyCause cause) noexcept {
  record(kReady, gp->id, current_gid(), static_cast<std::uint8_t>(cause));
}

void emit_netpoll(const G* list) noexcept {
  for (const G* g = list; g != nullptr; g = g->schedlink) emit_ready(g, ReadyCause::netpoll);
}

void emit_steal(const P* thief, const G* gp) noexcept {
  P* t = const_cast<P*>(thief);
  std::uint32_t n = t->runq_tail.load(std::memory_order_relaxed) -
                    t->runq_head.raw().load(std::memory_order_relaxed);
  record(kSteal, gp->id, 1 + static_cast<std::uint64_t>(n <= kRunqSize ? n : 0), 0, thief->id);
}

void emit_spinning(bool on) noexcept { record(on ? kSpinOn : kSpinOff, 0, 0, 0); }

void emit_m_idle(bool on) noexcept { record(on ? kIdleOn : kIdleOff, 0, 0, 0); }

void emit_p(const P* p, const M* m, bool acquired) noexcept {
  (void)m;
  record(acquired ? kPAcquire : kPRelease, 0, static_cast<std::uint64_t>(p->id), 0, p->id);
}

void syscall_enter() noexcept {
  if (P* p = current_p(); p != nullptr && cause_counts != nullptr) {
    bump(cause_counts[p->id].n[kSlotSyscall]);
  }
  if (enabled.load(std::memory_order_relaxed)) record(kSysEnter, current_gid(), 0, 0);
}

void syscall_exit() noexcept {
  if (enabled.load(std::memory_order_relaxed)) record(kSysExit, current_gid(), 0, 0);
}

void handoff(const P* p) noexcept {
  if (enabled.load(std::memory_order_relaxed)) {
    record(kHandoff, 0, static_cast<std::uint64_t>(p->id), 0, p->id);
  }
}

void preempted(const G* gp) noexcept {
  if (P* p = current_p(); p != nullptr && cause_counts != nullptr) {
    bump(cause_counts[p->id].n[kSlotPreempt]);
  }
  if (enabled.load(std::memory_order_relaxed)) tls_preempt_g = gp->id;
}

// ---- lifecycle -------------------------------------------------------------------------

void boot(const Config& cfg, int procs) {
  teardown();
  cause_counts = new CauseCounts[static_cast<std::size_t>(procs)];
  run_procs = procs;
  use_ticks = false;
  t0 = nanotime();
  tick0 = t0;

  long seed = env_number("GORT_SEED", 0, 2'000'000'000);
  seeded = seed > 0;
  run_seed = seed;
  for (int i = 0; i < procs; ++i) {
    cause_counts[i].rng = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(seed) +
                          0x632be59bd9b4e019ull * static_cast<std::uint64_t>(i + 1);
  }
  long st_ms = env_number("GORT_SCHEDTRACE", 0, 3'600'000);
  bool detail = env_number("GORT_SCHEDDETAIL", 0, 1) == 1;

  // Config::trace is used as given (each run overwrites it); GORT_TRACE
  // names the first traced run's file, and later runs of the same process
  // (a test binary runs many) get <stem>.2<ext>, <stem>.3<ext>, ...
  const char* path = cfg.trace;
  bool from_env = path == nullptr || *path == '\0';
  if (from_env) path = std::getenv("GORT_TRACE");
  if (path != nullptr && *path != '\0') {
    int nth = from_env && traced_paths.count(path) ? traced_paths[path] + 1 : 1;
    std::string p = nth_path(path, nth);
    std::FILE* f = std::fopen(p.c_str(), "w");
    if (f == nullptr) {
      throw std::runtime_error("gort: cannot open the trace file '" + p +
                               "' (Config::trace or GORT_TRACE): " + std::strerror(errno));
    }
    if (from_env) ++traced_paths[path];
    out = f;
    out_path = p;
    {
      std::lock_guard<std::mutex> lk(reg_lock);
      buffers.clear();
      generation.fetch_add(1, std::memory_order_acq_rel);
    }
    dropped_total.store(0, std::memory_order_relaxed);
    use_ticks = ticks_usable();
    t0 = nanotime();
    tick0 = ticks();
    enabled.store(true, std::memory_order_release);
  }
  if (st_ms > 0) {
    std::lock_guard<std::mutex> lk(st_lock);
    st_stop = false;
    st_thread = std::thread(schedtrace_loop, st_ms, detail);
  }
}

namespace {

/// Merges the buffers and writes the JSON file (end_run, exit_now).
void write_trace() noexcept {
  if (out == nullptr) return;
  enabled.store(false, std::memory_order_release);
  std::int64_t end = nanotime();
  std::int64_t tick1 = ticks();
  std::vector<Event> all;
  std::uint64_t dropped = dropped_total.load(std::memory_order_relaxed);
  bool ok = true;
  try {
    std::lock_guard<std::mutex> lk(reg_lock);
    std::size_t n = 0;
    for (auto& b : buffers) n += b->chunks.empty() ? 0 : (b->chunks.size() - 1) * kChunk + b->used;
    all.reserve(n);
    for (auto& b : buffers) {
      dropped += b->dropped;
      for (std::size_t c = 0; c < b->chunks.size(); ++c) {
        std::size_t k = c + 1 == b->chunks.size() ? b->used : kChunk;
        all.insert(all.end(), b->chunks[c].get(), b->chunks[c].get() + k);
      }
    }
    buffers.clear();
    generation.fetch_add(1, std::memory_order_acq_rel);  // stale thread_local pointers
    if (use_ticks && tick1 > tick0) {                    // ticks -> nanoseconds
      long double scale = static_cast<long double>(end - t0) / (tick1 - tick0);
      for (Event& e : all) e.ts = t0 + static_cast<std::int64_t>((e.ts - tick0) * scale);
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const Event& a, const Event& b) { return a.ts < b.ts; });
    Writer(out).write(all, end, dropped);
  } catch (...) {
    ok = false;
  }
  ok = std::fflush(out) == 0 && ok;
  ok = std::fclose(out) == 0 && ok;
  out = nullptr;
  char msg[512];
  if (ok) {
    std::snprintf(msg, sizeof msg,
                  "gort: trace written to %s (%zu events%s); open it in https://ui.perfetto.dev "
                  "or chrome://tracing, or draw it: scripts/trace_timeline.py\n",
                  out_path.c_str(), all.size(), dropped ? ", some dropped: buffers full" : "");
  } else {
    std::snprintf(msg, sizeof msg, "gort: could not write the trace file %s\n", out_path.c_str());
  }
  write_all(2, msg);
}

}  // namespace

void end_run() noexcept {
  if (st_thread.joinable()) {
    {
      std::lock_guard<std::mutex> lk(st_lock);
      st_stop = true;
    }
    st_cv.notify_all();
    st_thread.join();
  }
  write_trace();
}

G* perturb_pick_slow(P* p, G* gp, bool* inherit_time) {
  if (gp == nullptr || cause_counts == nullptr) return gp;
  std::uint64_t& x = cause_counts[p->id].rng;  // xorshift64*
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  if (((x * 0x2545f4914f6cdd1dull) >> 62) != 0) return gp;  // 3 picks in 4 unchanged
  runq_put(p, gp, false);
  G* next = find_runnable_fast(p, inherit_time);
  *inherit_time = false;
  return next;
}

void exit_now() noexcept {
  if (seeded) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "gort: this run's schedule was perturbed with GORT_SEED=%ld (the same seed on "
                  "one P repeats it)\n",
                  run_seed);
    write_all(2, msg);
  }
  // Other Ms may still be recording: their last events may be missing or
  // torn. Their chunk lists never reallocate (reserved at creation), so the
  // read cannot fault.
  if (out != nullptr)
    write_all(2, "gort: the program is exiting: writing the trace as it stands\n");
  write_trace();
}

void add_stats(debug::Stats& s) noexcept {
  if (cause_counts == nullptr) return;
  std::uint64_t n[kSlots] = {};
  for (int i = 0; i < run_procs; ++i) {
    for (int c = 0; c < kSlots; ++c) n[c] += cause_counts[i].n[c].load(std::memory_order_relaxed);
  }
  auto at = [&](WaitReason r) { return n[static_cast<int>(r)]; };
  std::uint64_t exits = s.goroutines_created - s.goroutines_live;
  s.sched_go = s.goroutines_created > 0 ? s.goroutines_created - 1 : 0;
  s.sched_sync = at(WaitReason::chan_receive) + at(WaitReason::chan_send) +
                 at(WaitReason::wait_group) + at(WaitReason::mutex) + at(WaitReason::select);
  s.sched_sleep = at(WaitReason::sleep);
  s.sched_io = at(WaitReason::io_wait);
  s.sched_syscall = n[kSlotSyscall];
  // A reason-less stop is a yield or an exit; an exit is counted before its stop.
  s.sched_yield = at(WaitReason::none) > exits ? at(WaitReason::none) - exits : 0;
  s.sched_preempt = at(WaitReason::preempted) + n[kSlotPreempt] + s.slices_ended;
  s.sched_exit = exits;
}

void teardown() noexcept {
  delete[] cause_counts;
  cause_counts = nullptr;
}

// ---- schedtrace ----------------------------------------------------------------------

void schedtrace(int fd, bool detailed) noexcept {
  std::string s;
  try {
    char buf[256];
    std::lock_guard<os::FutexMutex> lk(sched.lock);
    if (sched.allp == nullptr) return;
    std::snprintf(buf, sizeof buf,
                  "SCHED %lldms: gomaxprocs=%d idleprocs=%d threads=%zu spinningthreads=%d "
                  "needspinning=0 idlethreads=%d runqueue=%d",
                  static_cast<long long>((nanotime() - t0) / 1'000'000), sched.gomaxprocs,
                  sched.npidle.load(std::memory_order_relaxed), sched.allm.size(),
                  sched.nmspinning.load(std::memory_order_relaxed), sched.nmidle,
                  sched.runq_size.load(std::memory_order_relaxed));
    s += buf;
    if (detailed) s += " gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0\n";
    GORT_RACY_READS_BEGIN();
    for (int i = 0; i < sched.gomaxprocs; ++i) {
      P& p = sched.allp[i];
      std::uint32_t n = p.runq_tail.load(std::memory_order_acquire) -
                        p.runq_head.raw().load(std::memory_order_acquire);
      if (detailed) {
        M* pm = __atomic_load_n(&p.m, __ATOMIC_RELAXED);
        std::snprintf(
            buf, sizeof buf,
            "  P%d: status=%d schedtick=%llu syscalltick=0 m=%d runqsize=%u "
            "gfreecnt=%d timerslen=0\n",
            i, go_pstatus(p.status.load(std::memory_order_relaxed)),
            static_cast<unsigned long long>(__atomic_load_n(&p.schedtick, __ATOMIC_RELAXED)),
            pm ? pm->id : -1, n, __atomic_load_n(&p.gfree_count, __ATOMIC_RELAXED));
        s += buf;
      } else {
        s += i == 0 ? " [" : " ";
        s += std::to_string(n);
        if (i == sched.gomaxprocs - 1) s += "]\n";
      }
    }
    if (detailed) {
      for (std::size_t i = 0, n = sched.allm.size(); i < n; ++i) {
        M* m = sched.allm.at(i);
        P* mp = __atomic_load_n(&m->p, __ATOMIC_RELAXED);
        G* cg = __atomic_load_n(&m->curg, __ATOMIC_RELAXED);
        std::snprintf(
            buf, sizeof buf,
            "  M%d: p=%d curg=%lld mallocing=0 throwing=0 preemptoff= locks=0 dying=0 "
            "spinning=%s blocked=%s lockedg=-1\n",
            m->id, mp ? mp->id : -1,
            cg ? static_cast<long long>(__atomic_load_n(&cg->id, __ATOMIC_RELAXED)) : -1LL,
            __atomic_load_n(&m->spinning, __ATOMIC_RELAXED) ? "true" : "false",
            m->idle.load(std::memory_order_relaxed) ? "true" : "false");
        s += buf;
      }
      std::lock_guard<os::FutexMutex> lk2(sched.allg_lock);
      for (std::size_t i = 0, n = sched.allgs.size(); i < n; ++i) {
        G* gp = sched.allgs.at(i);
        GStatus st = gp->status.load(std::memory_order_relaxed);
        if (st == GStatus::idle) continue;
        M* gm = st == GStatus::running ? __atomic_load_n(&gp->m, __ATOMIC_RELAXED) : nullptr;
        std::snprintf(buf, sizeof buf, "  G%llu: status=%d(%s) m=%d lockedm=-1\n",
                      static_cast<unsigned long long>(__atomic_load_n(&gp->id, __ATOMIC_RELAXED)),
                      go_gstatus(st),
                      to_string(static_cast<WaitReason>(__atomic_load_n(
                          reinterpret_cast<std::uint8_t*>(&gp->wait_reason), __ATOMIC_RELAXED))),
                      gm ? gm->id : -1);
        s += buf;
      }
    }
    GORT_RACY_READS_END();
  } catch (...) {
    return;  // out of memory: skip this report
  }
  write_all(fd, s.c_str());
}

}  // namespace gort::rt::trace
