# Lab 05 — blocking system calls hand off the P (entersyscall/exitsyscall,
# handoffp) and sysmon's policy (retake, back-off, netpoll, preemption).
gort_lab(NUMBER 05 NAME syscall-handoff
  SOURCES syscall.cpp
  TESTS tests/test_syscall.cpp tests/test_sysmon.cpp
  TIMEOUT 30)
