// Lab 02, task 1 — the raw context switch (assembly) and the entry trampoline.
//
// void gort_switch_context_raw(void** save_sp, void* load_sp)
//   x86-64 SysV: save_sp in rdi, load_sp in rsi. aarch64: x0, x1.
//
// It is called like any function, so the compiler has already saved every
// caller-saved register it still needs. Your switch must keep what a callee
// must preserve (see the handout, "The ABI contract"):
//   x86-64:  rbx, rbp, r12, r13, r14, r15, the MXCSR register and the x87
//            control word (the return address is already on the stack);
//   aarch64: x19–x28, x29 (fp), x30 (lr), d8–d15 and FPCR.
// Push them onto the current stack, store the stack pointer to *save_sp,
// load load_sp, pop the state saved there (in the same order you pushed it)
// and return: you return into the other context.
//
// The frame you leave is fixed (the grader forges one to test this switch
// before make_context exists). x86-64, 8-byte words from the saved sp up:
//   +0 x87 CW  +8 MXCSR  +16 r15  +24 r14  +32 r13  +40 r12  +48 rbx
//   +56 rbp  +64 return address
// i.e. push rbp, rbx, r12, r13, r14, r15, then 16 bytes for the two control
// words (see the handout, "The first frame").
//
// gort_context_trampoline is where a fresh context's first switch "returns"
// to. make_context (context.cpp) puts the entry function in the r12 slot and
// its argument in the r13 slot; the trampoline must move them into the
// argument registers and call gort_context_start(entry, arg) with the stack
// 16-byte aligned at the call. gort_context_start never returns.
//
// Until you write them, both stubs below print "not implemented" and abort.

        .text
        .globl  gort_switch_context_raw
        .type   gort_switch_context_raw, %function
gort_switch_context_raw:
        // TODO(lab 02, task 1): save the callee-saved state, switch stacks, restore, return.
#if defined(__x86_64__)
        subq    $8, %rsp
        leaq    .Lmsg_switch(%rip), %rdi
        call    gort_lab02_not_implemented@PLT
#elif defined(__aarch64__)
        adr     x0, .Lmsg_switch
        bl      gort_lab02_not_implemented
#endif
        .size   gort_switch_context_raw, .-gort_switch_context_raw

        .globl  gort_context_trampoline
        .type   gort_context_trampoline, %function
gort_context_trampoline:
        // TODO(lab 02, task 2): move entry and arg into the argument registers and
        // call gort_context_start (a fresh context's first switch returns here).
#if defined(__x86_64__)
        leaq    .Lmsg_tramp(%rip), %rdi
        call    gort_lab02_not_implemented@PLT
#elif defined(__aarch64__)
        adr     x0, .Lmsg_tramp
        bl      gort_lab02_not_implemented
#endif
        .size   gort_context_trampoline, .-gort_context_trampoline

        .section .rodata
.Lmsg_switch:
        .asciz  "lab 02 task 1: gort_switch_context_raw (switch_context.S)"
.Lmsg_tramp:
        .asciz  "lab 02 task 2: gort_context_trampoline (switch_context.S)"

#if defined(__linux__) && defined(__ELF__)
        .section .note.GNU-stack,"",%progbits
#endif
