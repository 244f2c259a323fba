// Default system-call hooks (see runtime/rt/hooks.hpp). Lab 05 will move
// this into the student's lab folder, where entersyscall/exitsyscall hand the
// P to another M while a call blocks (and sysmon retakes it). Until then a
// system call is a plain call: the M keeps its P, which is correct but lets
// one blocking call stall a whole P.
#include "rt/hooks.hpp"

namespace gort::rt {

void entersyscall() noexcept {}

void exitsyscall() noexcept {}

int syscalls_in_progress() noexcept { return 0; }

}  // namespace gort::rt
