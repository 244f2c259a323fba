# Lab 03 — the G/M/P scheduler, channels and the public goroutine API.
gort_lab(NUMBER 03 NAME scheduler
  SOURCES runq.cpp sched.cpp chan.cpp
  TESTS tests/test_queues.cpp tests/test_runq.cpp tests/test_sched.cpp tests/test_chan.cpp
        tests/test_park_window.cpp
  TIMEOUT 20)
