# Lab 01 — threads: the M layer (OS threads, futex Note and mutex, speedup).
gort_lab(NUMBER 01 NAME threads
  SOURCES os_thread.cpp note.cpp futex_mutex.cpp speedup.cpp
  TESTS tests/test_note.cpp tests/test_thread.cpp tests/test_mutex.cpp tests/test_speedup.cpp
  TIMEOUT 10)
