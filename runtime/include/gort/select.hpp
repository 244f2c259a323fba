// gort::select — Go's `select` statement over gort::Chan (provided runtime;
// runtime/rt/select.cpp, which follows Go's runtime.selectgo).
//
// A select waits on several channel operations at once and performs exactly
// one of them:
//
//     gort::Chan<int> jobs(8);
//     gort::Chan<bool> quit;
//     int chosen = gort::select(
//         gort::recv(jobs, [](std::optional<int> j) {
//           if (j) std::printf("job %d\n", *j);       // empty: jobs was closed
//         }),
//         gort::send(results, 42, [] { std::puts("sent 42"); }),
//         gort::recv(quit, [] { std::puts("quit"); }),  // handler may ignore the value
//         gort::recv(gort::after(std::chrono::seconds(1)), [] { std::puts("timeout"); }));
//
// is Go's
//
//     select {
//     case j, ok := <-jobs: ...
//     case results <- 42: ...
//     case <-quit: ...
//     case <-time.After(time.Second): ...
//     }
//
// Semantics (Go's, https://go.dev/ref/spec#Select_statements):
//   * select blocks until at least one case can proceed, performs that one
//     case's operation, runs its handler, and returns the case's index (its
//     position among select's arguments, from 0).
//   * When several cases can proceed, one is chosen uniformly at random
//     (so no case starves). Argument order gives no priority.
//   * A receive case is ready when a value is buffered, a sender waits, or the
//     channel is closed; on a closed (and drained) channel its handler gets an
//     empty std::optional. A send case is ready when a receiver waits or the
//     buffer has room. A send case chosen on a closed channel panics with
//     Go's words ("panic: send on closed channel", exit code 2) — also when
//     the channel is closed while the select waits on it.
//   * With a default_case, select never blocks: if no other case can proceed
//     right now, the default's handler runs (Go's non-blocking send/receive).
//   * select() with no cases (and no default) blocks the goroutine forever
//     (Go's `select {}`, wait reason "select (no cases)"); it counts as
//     asleep for the deadlock report.
//   * A case built on a null `const Chan<T>*` never proceeds (Go's nil
//     channel): handy to switch a case off without changing the select.
//
// Cases hold a pointer to the channel handle they were given (a temporary
// Chan, e.g. gort::after(d), is kept alive inside the case), so build them in
// the select call itself, as above. Every select must run inside gort::run
// (std::logic_error otherwise). Handlers run on the selecting goroutine after
// the operation is done; an exception from a handler propagates out of
// select (the operation has happened). A handler that dereferences its
// optional without testing it may draw GCC's -Wmaybe-uninitialized (it
// cannot know the channel is open): test it, or use value() / value_or().
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "gort/chan.hpp"

namespace gort {

namespace detail {

/// One case as the runtime sees it (filled by the templates below).
struct SelectCase {
  ChanCore* c = nullptr;  ///< the channel; nullptr: never ready (nil channel, or the default)
  void* elem = nullptr;   ///< send: the value to move from; recv: an uninitialised slot
  bool is_send = false;
  bool ok = false;  ///< out, recv: true = an element was constructed in elem, false = closed
};

/// Go's selectgo over @p n cases (@p n <= 65536). Returns the index of the
/// case performed, or -1 if none could proceed and @p block is false (the
/// caller has a default). Blocks (parks) otherwise until one proceeds; with
/// n == 0 and @p block, parks forever. Panics on a send case whose channel
/// is closed. Throws std::logic_error outside gort::run.
int select_go(SelectCase* cases, int n, bool block);

template <class F, class... A>
void invoke_handler(F& fn, A&&... a) {
  if constexpr (std::is_invocable_v<F&, A...>) {
    fn(std::forward<A>(a)...);
  } else {
    static_assert(std::is_invocable_v<F&>,
                  "a gort::recv handler takes std::optional<T> (or nothing); "
                  "a send or default handler takes nothing");
    fn();
  }
}

struct NoHandler {
  template <class... A>
  void operator()(A&&...) const noexcept {}
};

/// A receive case (made by gort::recv). Not copyable or movable: use it in
/// the select call that it was built in.
template <class T, class F>
class RecvCase {
 public:
  RecvCase(const Chan<T>* ch, F fn) : ch_(ch), fn_(std::move(fn)) {}
  RecvCase(Chan<T>&& owned, F fn) : owned_(std::move(owned)), ch_(&*owned_), fn_(std::move(fn)) {}
  RecvCase(const RecvCase&) = delete;
  RecvCase& operator=(const RecvCase&) = delete;

  void describe(SelectCase& sc) {
    sc.c = ch_ ? ch_->core() : nullptr;
    sc.elem = slot_;
    sc.is_send = false;
  }
  void run(const SelectCase& sc) {
    std::optional<T> v;
    if (sc.ok) {
      T* p = std::launder(reinterpret_cast<T*>(slot_));
      v.emplace(std::move(*p));
      p->~T();
    }
    invoke_handler(fn_, std::move(v));
  }

 private:
  std::optional<Chan<T>> owned_;  ///< a temporary channel handle kept alive
  const Chan<T>* ch_;
  F fn_;
  alignas(T) unsigned char slot_[sizeof(T)];
};

/// A send case (made by gort::send). Not copyable or movable.
template <class T, class F>
class SendCase {
 public:
  SendCase(const Chan<T>* ch, T v, F fn) : ch_(ch), v_(std::move(v)), fn_(std::move(fn)) {}
  SendCase(Chan<T>&& owned, T v, F fn)
      : owned_(std::move(owned)), ch_(&*owned_), v_(std::move(v)), fn_(std::move(fn)) {}
  SendCase(const SendCase&) = delete;
  SendCase& operator=(const SendCase&) = delete;

  void describe(SelectCase& sc) {
    sc.c = ch_ ? ch_->core() : nullptr;
    sc.elem = &v_;
    sc.is_send = true;
  }
  void run(const SelectCase&) { invoke_handler(fn_); }

 private:
  std::optional<Chan<T>> owned_;
  const Chan<T>* ch_;
  T v_;  ///< moved from by the runtime when this case is chosen
  F fn_;
};

/// The default case (made by gort::default_case).
template <class F>
class DefaultCase {
 public:
  explicit DefaultCase(F fn) : fn_(std::move(fn)) {}
  DefaultCase(const DefaultCase&) = delete;
  DefaultCase& operator=(const DefaultCase&) = delete;
  void describe(SelectCase& sc) { sc = SelectCase{}; }
  void run(const SelectCase&) { invoke_handler(fn_); }

 private:
  F fn_;
};

template <class C>
struct IsDefaultCase : std::false_type {};
template <class F>
struct IsDefaultCase<DefaultCase<F>> : std::true_type {};

}  // namespace detail

/// A receive case: ready when @p ch has a value, a waiting sender, or is
/// closed. When chosen, @p fn gets the value, or an empty optional if the
/// channel is closed and drained; @p fn may also take no argument. @p ch must
/// outlive the select call (a temporary, such as gort::after(d), is kept).
template <class T, class F>
[[nodiscard]] detail::RecvCase<T, F> recv(const Chan<T>& ch, F fn) {
  return detail::RecvCase<T, F>(&ch, std::move(fn));
}
/// recv(ch, fn) on a temporary channel handle, which the case keeps alive.
template <class T, class F>
[[nodiscard]] detail::RecvCase<T, F> recv(Chan<T>&& ch, F fn) {
  return detail::RecvCase<T, F>(std::move(ch), std::move(fn));
}
/// recv(ch, fn) where a null @p ch never proceeds (Go's nil channel).
template <class T, class F>
[[nodiscard]] detail::RecvCase<T, F> recv(const Chan<T>* ch, F fn) {
  return detail::RecvCase<T, F>(ch, std::move(fn));
}
/// A receive case without a handler (Go's `case <-ch:`); the value is dropped.
template <class C>
[[nodiscard]] auto recv(C&& ch) {
  return recv(std::forward<C>(ch), detail::NoHandler{});
}

/// A send case: ready when a receiver waits on @p ch or its buffer has room.
/// When chosen, @p value is moved into the channel and @p fn() runs. Panics
/// (exit 2, "send on closed channel") if chosen while @p ch is closed —
/// including when it is closed while the select waits.
template <class T, class F>
[[nodiscard]] detail::SendCase<T, F> send(const Chan<T>& ch, std::type_identity_t<T> value, F fn) {
  return detail::SendCase<T, F>(&ch, std::move(value), std::move(fn));
}
/// send(ch, value, fn) on a temporary channel handle, which the case keeps alive.
template <class T, class F>
[[nodiscard]] detail::SendCase<T, F> send(Chan<T>&& ch, std::type_identity_t<T> value, F fn) {
  return detail::SendCase<T, F>(std::move(ch), std::move(value), std::move(fn));
}
/// send(ch, value, fn) where a null @p ch never proceeds (Go's nil channel).
template <class T, class F>
[[nodiscard]] detail::SendCase<T, F> send(const Chan<T>* ch, std::type_identity_t<T> value, F fn) {
  return detail::SendCase<T, F>(ch, std::move(value), std::move(fn));
}
/// A send case without a handler (Go's `case ch <- v:`), on any channel
/// argument the forms above take.
template <class C, class V>
[[nodiscard]] auto send(C&& ch, V&& value) {
  return send(std::forward<C>(ch), std::forward<V>(value), detail::NoHandler{});
}

/// The default case: makes select non-blocking; @p fn() runs if no other
/// case can proceed at once. At most one per select.
template <class F>
[[nodiscard]] detail::DefaultCase<F> default_case(F fn) {
  return detail::DefaultCase<F>(std::move(fn));
}
/// A default case with nothing to do.
[[nodiscard]] inline detail::DefaultCase<detail::NoHandler> default_case() {
  return detail::DefaultCase<detail::NoHandler>(detail::NoHandler{});
}

/// Go's select statement (see the top of this header): performs one ready
/// case — chosen uniformly at random among the ready ones — and runs its
/// handler; blocks (parks the goroutine, never the thread) until one is
/// ready unless a default_case is given. Returns the index of the case run
/// (the default's own index when it ran). No case at all blocks forever.
/// Panics with Go's "send on closed channel" for a send case chosen on a
/// closed channel. Throws std::logic_error outside gort::run, and whatever a
/// handler throws.
template <class... Cases>
int select(Cases&&... cases) {
  constexpr int kN = static_cast<int>(sizeof...(Cases));
  constexpr int kDefaults = (0 + ... + (detail::IsDefaultCase<std::decay_t<Cases>>::value ? 1 : 0));
  static_assert(kDefaults <= 1, "gort::select: at most one default_case");
  static_assert(kN <= 65536, "gort::select: too many cases");
  if constexpr (kN == 0) {
    detail::select_go(nullptr, 0, true);  // never returns
    return -1;
  } else {
    detail::SelectCase sc[kN];
    int default_index = -1;
    {
      int i = 0;
      ((cases.describe(sc[i]),
        default_index = detail::IsDefaultCase<std::decay_t<Cases>>::value ? i : default_index, ++i),
       ...);
    }
    int chosen = detail::select_go(sc, kN, default_index < 0);
    if (chosen < 0) chosen = default_index;
    {
      int i = 0;
      ((i++ == chosen ? cases.run(sc[chosen]) : void()), ...);
    }
    return chosen;
  }
}

}  // namespace gort
