// gort::Chan<T> — Go's `chan T` for C++ goroutines (Lab 03).
//
// A Chan is a handle: copies share one channel, like Go's chan values, and
// the channel lives as long as some handle (or a goroutine blocked on it)
// refers to it. Capacity 0 is an unbuffered channel — send and receive
// rendezvous, the element moves straight from the sender to the receiver —
// capacity n > 0 a FIFO buffer of n elements.
//
// The machinery is not a template: Chan<T> describes T to the runtime as a
// size plus "move-construct" and "destroy" operations (ElemOps), and the core
// in the runtime (runtime/rt/chan_core.hpp, the student's chan.cpp) moves
// elements as raw bytes through those operations. A blocked goroutine waits
// on the channel with its element slot on its own stack (Go's sudog).
//
// Semantics are Go's: recv() on a closed channel first drains the buffer,
// then returns an empty optional; send() on a closed channel, and closing a
// closed channel, panic ("panic: send on closed channel" /
// "panic: close of closed channel", goroutine id, exit code 2). A goroutine
// blocked in send() when the channel is closed panics too.
// `for (T v : ch)` is Go's `for v := range ch`: it receives until the channel
// is closed and drained (ChanIterator, gort::begin/end at the end of this file).
// Every operation must run inside gort::run (std::logic_error otherwise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace gort {

namespace detail {

/// How the runtime moves and destroys elements of one channel's type.
/// A null `move` means "trivially copyable: memcpy and nothing to destroy".
struct ElemOps {
  /// Move-constructs the element at uninitialised @p dst from the one at
  /// @p src; the source stays alive (moved-from) for its owner to destroy.
  void (*move)(void* dst, void* src) noexcept;
  /// Destroys the element at @p p.
  void (*destroy)(void* p) noexcept;
};

struct ChanCore;  // runtime/rt/chan_core.hpp

/// Creates a channel of @p capacity elements of @p elem_size bytes with
/// reference count 1. Throws std::bad_alloc.
ChanCore* chan_make(std::size_t elem_size, std::size_t elem_align, std::size_t capacity,
                    const ElemOps* ops);
/// Adds a reference. Never throws.
void chan_retain(ChanCore* c) noexcept;
/// Drops a reference; the last one destroys the buffered elements and frees.
void chan_release(ChanCore* c) noexcept;
/// Sends the element at @p elem (the runtime moves from it; the caller still
/// destroys it afterwards).
/// Blocks (parks the goroutine) until a receiver or buffer slot takes it.
void chan_send(ChanCore* c, void* elem);
/// Receives into the uninitialised slot @p out. Returns true with an element
/// constructed there, or false (nothing constructed) if closed and drained.
bool chan_recv(ChanCore* c, void* out);
/// Closes the channel, waking every blocked receiver and sender.
void chan_close(ChanCore* c);
/// Number of buffered elements (a racy snapshot, as Go's len(ch)).
std::size_t chan_len(const ChanCore* c) noexcept;
/// The capacity given at creation.
std::size_t chan_cap(const ChanCore* c) noexcept;

/// What an operation on a moved-from Chan handle throws.
[[noreturn]] inline void chan_moved_from() {
  throw std::logic_error(
      "gort::Chan: operation on a moved-from handle — it refers to no channel any more; "
      "assign a channel to it before using it again");
}

/// What a bad capacity throws: Go's make(chan T, n) panics with these words.
[[noreturn]] inline void makechan_size_out_of_range() {
  throw std::out_of_range("makechan: size out of range");
}

template <class T>
struct ElemOpsFor {
  static void move(void* dst, void* src) noexcept {
    ::new (dst) T(std::move(*static_cast<T*>(src)));
  }
  static void destroy(void* p) noexcept { static_cast<T*>(p)->~T(); }
  static constexpr ElemOps ops{&move, &destroy};
  static const ElemOps* get() noexcept {
    if constexpr (std::is_trivially_copyable_v<T>) {
      return nullptr;
    } else {
      return &ops;
    }
  }
};

}  // namespace detail

/// A channel of T: a copyable handle, like Go's `chan T`.
/// T must be move-constructible with a noexcept move constructor.
template <class T>
class Chan {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "gort::Chan<T> needs a noexcept move constructor");
  static_assert(!std::is_reference_v<T>, "gort::Chan<T&> is not supported: send pointers instead");

 public:
  /// Creates an unbuffered channel. May be called anywhere, also outside
  /// gort::run. Throws std::bad_alloc.
  Chan() : core_(make(std::size_t{0})) {}

  /// Creates a channel with room for @p capacity buffered elements
  /// (0: unbuffered), like Go's make(chan T, capacity): any integer type.
  /// A negative capacity, or one whose buffer (capacity * sizeof(T) bytes)
  /// no object can have, throws std::out_of_range with Go's words
  /// "makechan: size out of range" (inside a goroutine, left uncaught, that
  /// is a panic with Go's message). Throws std::bad_alloc when memory runs
  /// out. May be called anywhere, also outside gort::run.
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  explicit Chan(I capacity) : core_(make(capacity)) {}

  /// Another handle to the same channel (an atomic reference count update).
  Chan(const Chan& o) noexcept : core_(o.core_) {
    if (core_) detail::chan_retain(core_);
  }
  /// Takes over @p o's reference, with no reference count update (a handle
  /// passed by value to gort::go or returned from a function is moved).
  /// @p o is left referring to no channel: it may be destroyed or assigned
  /// to; send, recv and close on it throw std::logic_error.
  Chan(Chan&& o) noexcept : core_(o.core_) { o.core_ = nullptr; }
  /// Makes this handle refer to @p o's channel.
  Chan& operator=(const Chan& o) noexcept {
    if (core_ != o.core_) {
      if (o.core_) detail::chan_retain(o.core_);
      if (core_) detail::chan_release(core_);
      core_ = o.core_;
    }
    return *this;
  }
  /// Makes this handle refer to @p o's channel; @p o is left as by the move
  /// constructor.
  Chan& operator=(Chan&& o) noexcept {
    if (this != &o) {
      if (core_) detail::chan_release(core_);
      core_ = o.core_;
      o.core_ = nullptr;
    }
    return *this;
  }
  ~Chan() {
    if (core_) detail::chan_release(core_);
  }

  /// Sends @p v: waits for a receiver (unbuffered) or a free slot (buffered).
  /// Panics (exit code 2) if the channel is or becomes closed.
  /// Throws std::logic_error outside gort::run.
  void send(T v) const { detail::chan_send(checked_core(), &v); }

  /// Receives the next element, waiting for one; returns std::nullopt once
  /// the channel is closed and its buffer drained. Throws std::logic_error
  /// outside gort::run.
  std::optional<T> recv() const {
    alignas(T) unsigned char slot[sizeof(T)];
    if (!detail::chan_recv(checked_core(), slot)) return std::nullopt;
    T* p = std::launder(reinterpret_cast<T*>(slot));
    std::optional<T> out(std::move(*p));
    p->~T();
    return out;
  }

  /// Closes the channel: blocked receivers get std::nullopt, blocked senders
  /// panic. Panics (exit 2) if it is already closed. Throws
  /// std::logic_error outside gort::run.
  void close() const { detail::chan_close(checked_core()); }

  /// Number of elements buffered right now (0 for a moved-from handle).
  std::size_t size() const noexcept { return core_ ? detail::chan_len(core_) : 0; }
  /// The capacity given at construction (0 for a moved-from handle).
  std::size_t capacity() const noexcept { return core_ ? detail::chan_cap(core_) : 0; }

  /// True if both handles refer to the same channel.
  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.core_ == b.core_; }

  /// The runtime's channel object, for gort::select and the timers
  /// (gort/select.hpp, gort/time.hpp); not for programs.
  detail::ChanCore* core() const noexcept { return core_; }

 private:
  /// The most elements a buffer may hold: its size must fit a ptrdiff_t.
  static constexpr std::size_t kMaxCapacity = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(T);

  template <class I>
  static detail::ChanCore* make(I capacity) {
    if constexpr (std::is_signed_v<I>) {
      if (capacity < 0) detail::makechan_size_out_of_range();
    }
    auto n = static_cast<std::make_unsigned_t<I>>(capacity);
    if constexpr (sizeof(I) >= sizeof(std::size_t)) {  // narrower types always fit
      if (n > kMaxCapacity) detail::makechan_size_out_of_range();
    }
    return detail::chan_make(sizeof(T), alignof(T), static_cast<std::size_t>(n),
                             detail::ElemOpsFor<T>::get());
  }

  /// The channel; throws std::logic_error for a moved-from handle.
  detail::ChanCore* checked_core() const {
    if (core_ == nullptr) [[unlikely]]
      detail::chan_moved_from();
    return core_;
  }

  detail::ChanCore* core_;
};

/// The iterator of `for (T v : ch)`, Go's `for v := range ch`: each element
/// is received (blocking as recv() does) when the loop next looks at the
/// iterator — compares it with the end or dereferences it — never by the
/// increment itself, so a loop left by `break`, or a view such as
/// `ch | std::views::take(n)`, takes no element it does not use. The loop
/// ends once the channel is closed and drained. An input iterator: it refers
/// to the channel handle it was made from, which must outlive the loop (a
/// temporary in the loop's head does).
template <class T>
class ChanIterator {
 public:
  using value_type = T;                              ///< the element type
  using difference_type = std::ptrdiff_t;            ///< required of iterators; unused
  using iterator_concept = std::input_iterator_tag;  ///< single pass

  /// An iterator at the end (never dereference it).
  ChanIterator() = default;
  /// An iterator over what @p ch receives; receives nothing yet.
  explicit ChanIterator(const Chan<T>& ch) : ch_(&ch), pending_(true) {}

  /// The current element, received first if it was not yet (blocks until
  /// one arrives). Undefined at the end, like any iterator. Throws
  /// std::logic_error outside gort::run.
  T& operator*() const {
    fill();
    return *cur_;
  }
  /// Moves past the current element; the next one is received when needed.
  ChanIterator& operator++() {
    fill();  // `++it; ++it;` skips an element, as on any input range
    cur_.reset();
    pending_ = true;
    return *this;
  }
  /// Same as prefix increment (an input iterator returns nothing useful).
  void operator++(int) { ++*this; }
  /// True once the channel is closed and drained; receives the current
  /// element first if it was not yet (so this blocks until one arrives or
  /// the channel is closed). Throws std::logic_error outside gort::run.
  friend bool operator==(const ChanIterator& it, std::default_sentinel_t) {
    it.fill();
    return !it.cur_.has_value();
  }

 private:
  void fill() const {
    if (pending_) {
      cur_ = ch_->recv();
      pending_ = false;
    }
  }
  const Chan<T>* ch_ = nullptr;
  mutable std::optional<T> cur_;  ///< the current element; empty at the end
  mutable bool pending_ = false;  ///< the current element is still to be received
};

/// Makes a Chan usable in a range-for: `for (int v : ch)` receives until the
/// channel is closed and drained (Go's `for v := range ch`; see ChanIterator).
/// Never blocks itself: the loop blocks when it looks for the first element.
template <class T>
ChanIterator<T> begin(const Chan<T>& ch) {
  return ChanIterator<T>(ch);
}
/// The end of a range-for over a Chan (see begin()).
template <class T>
std::default_sentinel_t end(const Chan<T>&) noexcept {
  return std::default_sentinel;
}
/// begin() for a non-const handle: the same, and what lets std::ranges
/// algorithms and views take a Chan (std::ranges::input_range).
template <class T>
ChanIterator<T> begin(Chan<T>& ch) {
  return ChanIterator<T>(ch);
}
/// end() for a non-const handle (see begin()).
template <class T>
std::default_sentinel_t end(Chan<T>&) noexcept {
  return std::default_sentinel;
}

}  // namespace gort
