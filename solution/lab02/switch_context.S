// Lab 02, task 1 (solution) — the raw context switch and the entry trampoline.
//
// gort_switch_context_raw(void** save_sp, void* load_sp) is called like an
// ordinary function, so the compiler has already spilled every caller-saved
// register it still needs. What is left to keep is exactly what the ABI says
// a callee must hand back unchanged: the callee-saved general registers, the
// floating-point control state, the stack pointer and (implicitly, through
// the return address the call pushed) the program counter. The switch pushes
// that state onto the *current* stack, stores the stack pointer to *save_sp,
// loads load_sp and pops the state the other context pushed when it left —
// and the popped return address resumes it after its own call to the switch
// (on x86-64 by pop + jmp, not `ret`: see the comment at its return).
//
// A fresh context (made by make_context) holds a fake saved frame whose
// return address is gort_context_trampoline: it moves entry and arg from the
// registers the frame loaded (x86-64: r12/r13, aarch64: x19/x20) into the
// argument registers and calls gort_context_start, which never returns. The
// trampoline's CFI marks the return address undefined so debuggers and
// unwinders stop there instead of walking off the top of the stack.
//
// x86-64 frame, from the saved stack pointer upwards (72 bytes + return addr):
//   +0  x87 control word (2 bytes used)   +8  MXCSR (4 bytes used)
//   +16 r15  +24 r14  +32 r13  +40 r12  +48 rbx  +56 rbp  +64 return address
//   (resumed by popping it and jumping, see below)
// aarch64 frame (176 bytes, 16-byte aligned):
//   +0 x19,x20 … +80 x29,x30(lr)  +96 d8,d9 … +144 d14,d15  +160 FPCR
//
// With the fcontext backend (GORT_SWITCH_BACKEND_FCONTEXT) this file is empty:
// context.cpp implements the switch with Boost.Context instead.

#if !defined(GORT_SWITCH_BACKEND_FCONTEXT)

#if defined(__x86_64__)

        .text
        .globl  gort_switch_context_raw
        .type   gort_switch_context_raw, @function
        .p2align 4
gort_switch_context_raw:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        subq    $16, %rsp
        .cfi_adjust_cfa_offset 16
        stmxcsr 8(%rsp)
        fnstcw  (%rsp)
        movl    8(%rsp), %eax           // keep our MXCSR and x87 CW at hand ...
        movzwl  (%rsp), %edx
        movq    %rsp, (%rdi)            // *save_sp = rsp: this context is now suspended
        movq    %rsi, %rsp              // the other context's stack
        // ... and load the other context's only if they differ: writing MXCSR
        // or the x87 CW serialises the pipeline (tens of ns). Only MXCSR's
        // control bits (6-15) are callee-saved; its status flags (0-5) are
        // caller-saved, so differing flags alone need no reload.
        movl    8(%rsp), %ecx
        xorl    %eax, %ecx
        testl   $0xffc0, %ecx
        jz      1f
        ldmxcsr 8(%rsp)
1:      cmpw    (%rsp), %dx
        je      2f
        fldcw   (%rsp)
2:      addq    $16, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        // Return with pop + indirect jump rather than `ret`: `ret` would be
        // predicted from the CPU's return-stack buffer, which expects us back in
        // the caller that just switched away, so it would mispredict on every
        // switch; the indirect-branch predictor learns the real pattern.
        popq    %rcx
        jmpq    *%rcx                   // into the other context (or the trampoline)
        .cfi_endproc
        .size   gort_switch_context_raw, .-gort_switch_context_raw

        .globl  gort_context_trampoline
        .type   gort_context_trampoline, @function
        .p2align 4
gort_context_trampoline:
        .cfi_startproc
        .cfi_undefined rip              // outermost frame: unwinding stops here
        movq    %r12, %rdi              // entry
        movq    %r13, %rsi              // arg
        call    gort_context_start@PLT  // never returns
        ud2
        .cfi_endproc
        .size   gort_context_trampoline, .-gort_context_trampoline

#elif defined(__aarch64__)

        .text
        .globl  gort_switch_context_raw
        .type   gort_switch_context_raw, %function
        .p2align 4
gort_switch_context_raw:
        .cfi_startproc
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]                // *save_sp = sp
        mov     sp, x1                  // the other context's stack
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        ret                             // to x30: the other context (or the trampoline)
        .cfi_endproc
        .size   gort_switch_context_raw, .-gort_switch_context_raw

        .globl  gort_context_trampoline
        .type   gort_context_trampoline, %function
        .p2align 4
gort_context_trampoline:
        .cfi_startproc
        .cfi_undefined x30              // outermost frame: unwinding stops here
        mov     x0, x19                 // entry
        mov     x1, x20                 // arg
        mov     x29, xzr
        bl      gort_context_start      // never returns
        brk     #1
        .cfi_endproc
        .size   gort_context_trampoline, .-gort_context_trampoline

#else
#error "gort: switch_context.S supports x86-64 and aarch64 only (configure with -DGORT_SWITCH_BACKEND=fcontext elsewhere)"
#endif

#endif  // !GORT_SWITCH_BACKEND_FCONTEXT

#if defined(__linux__) && defined(__ELF__)
        .section .note.GNU-stack,"",%progbits
#endif
