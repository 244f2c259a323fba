# Lab 02 — contexts: the register-saving switch, goroutine stacks, and an N:1
# cooperative scheduler built from them.
gort_lab(NUMBER 02 NAME context-switch
  SOURCES switch_context.S context.cpp stack.cpp coro.cpp
  TESTS tests/lab02_probe.cpp tests/test_switch.cpp tests/test_stack.cpp tests/test_coro.cpp
        tests/test_coro_contract.cpp
  TIMEOUT 10)
