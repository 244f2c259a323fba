# Lab 06 — half-queue work stealing: runq_grab/runq_steal, steal_work's random
# coprime order, and the spinning limit.
gort_lab(NUMBER 06 NAME work-stealing
  SOURCES steal.cpp
  TESTS tests/test_grab.cpp tests/test_spinning.cpp tests/test_steal_runtime.cpp
  TIMEOUT 30)
