// What a starter stub throws until the student writes the function.
//
// Every TODO in a lab's starter files ends in `throw gort::NotImplemented(...)`
// (or the equivalent for code that cannot throw), so an unfinished task fails
// its graded tests at once with a message naming the task, instead of hanging
// or crashing somewhere far away.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gort {

/// Thrown by starter stubs. what() names the lab, the task and the function.
class NotImplemented : public std::logic_error {
 public:
  /// @param what_is_missing e.g. "lab 01 task 2: Note::sleep"
  explicit NotImplemented(const std::string& what_is_missing)
      : std::logic_error("not implemented yet: " + what_is_missing + " (TODO in your lab folder)") {
  }
};

/// For stubs that cannot throw (noexcept functions): prints what
/// NotImplemented would say, then aborts. Provided here, not in a starter
/// file, so a finished file that no longer calls it still builds.
[[noreturn]] inline void not_implemented_abort(const char* what_is_missing) noexcept {
  std::fprintf(stderr, "not implemented yet: %s (TODO in your lab folder)\n", what_is_missing);
  std::abort();
}

}  // namespace gort
