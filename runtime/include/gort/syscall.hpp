// gort::syscall — blocking system calls that do not stall their P (Lab 05;
// provided in runtime/rt/sysmon.cpp around the student's
// entersyscall/exitsyscall). Included by <gort/gort.hpp>.
//
// A goroutine that calls read(2) directly blocks its M, and with it every
// goroutine queued on the M's P. Wrapped in gort::syscall the call is marked:
// the M lets go of its P for the call's duration, and if the call lasts,
// sysmon gives the P to another M (a parked one, or a new thread) so the
// other goroutines keep running. A call that returns quickly (getpid) takes
// its P straight back: no thread, no hand-off. gort::syscall_block hands the
// P off at once, for calls known to block long.
//
//     std::string conf = gort::read_file("/etc/hosts");
//     ssize_t n = gort::syscall(::read, fd, buf, sizeof buf);
//
// Contract of f: a plain blocking call or computation that does not call
// into gort (no channels, go(), yield, sync, nested gort::syscall): during
// the call the goroutine holds no P. Each goroutine blocked in a call holds
// an OS thread: Config::max_threads (10,000 by default) bounds them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace gort {

namespace detail {

/// Checks the caller is a goroutine outside a call, then entersyscall (or
/// entersyscall_block when @p block). Throws std::logic_error outside a
/// goroutine or inside the function of another gort::syscall.
void syscall_enter(bool block);
/// exitsyscall, then a scheduling point (preemption) — or, if main returned
/// meanwhile, parks the goroutine for good (run() is ending). Never throws.
void syscall_exit() noexcept;

/// Calls syscall_exit when the call returns or throws.
struct SyscallExit {
  SyscallExit() = default;
  SyscallExit(const SyscallExit&) = delete;
  SyscallExit& operator=(const SyscallExit&) = delete;
  ~SyscallExit() { syscall_exit(); }
};

}  // namespace detail

/// Runs f(args...) as a system call that may block: the P is left for
/// sysmon to hand to another M if the call lasts (Go's entersyscall /
/// exitsyscall). Returns what f returns; an exception thrown by f passes
/// through (after the goroutine got a P back). Goroutines only: throws
/// std::logic_error outside gort::run, on a plain thread, or when called
/// from inside another gort::syscall's f.
template <class F, class... Args>
decltype(auto) syscall(F&& f, Args&&... args) {
  detail::syscall_enter(false);
  detail::SyscallExit exit;
  return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
}

/// Like syscall, for a call known to block for long (a read from a pipe
/// or a terminal): the P is handed off at once (Go's entersyscallblock),
/// without waiting for sysmon. Same contract and errors.
template <class F, class... Args>
decltype(auto) syscall_block(F&& f, Args&&... args) {
  detail::syscall_enter(true);
  detail::SyscallExit exit;
  return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
}

/// Reads the whole file at @p path (a regular file, a FIFO, a device) into
/// memory; each read(2) runs through gort::syscall. Goroutines only. Throws
/// std::system_error naming the path if it cannot be opened or read,
/// std::logic_error outside a goroutine.
std::string read_file(const std::string& path);

/// Writes @p data to the file at @p path, created or truncated (mode 0644
/// before the umask); each write(2) runs through gort::syscall. Goroutines
/// only. Throws std::system_error naming the path, std::logic_error outside
/// a goroutine.
void write_file(const std::string& path, std::string_view data);

}  // namespace gort
