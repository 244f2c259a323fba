# Lab 04 — the network poller (edge-triggered epoll, no poller thread) under gort::net.
gort_lab(NUMBER 04 NAME netpoll
  SOURCES netpoll.cpp
  TESTS tests/test_poller.cpp tests/test_net.cpp
  TIMEOUT 20)
