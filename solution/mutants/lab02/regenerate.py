#!/usr/bin/env python3
"""Regenerates the Lab 02 mutants from the solution files (run after editing
solution/lab02/*): each mutant is the solution with one deliberate bug, and the
asm ones are self-contained asm-backend copies (so they mean the same in an
fcontext build). Fails loudly if a pattern no longer matches the solution."""
import os
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
S=open('lab02/switch_context.S').read()
C=open('lab02/context.cpp').read()
def asm_only_S(s, note):
    s=s.replace('#if !defined(GORT_SWITCH_BACKEND_FCONTEXT)','#if 1  // mutant: always the asm backend, whatever GORT_SWITCH_BACKEND says',1)
    return "// MUTANT (%s) of solution/lab02/switch_context.S.\n// Mutants are self-contained asm-backend copies so they mean the same in\n// fcontext builds.\n"%note + s
def asm_only_C(c, note):
    c=c.replace('#if defined(GORT_SWITCH_BACKEND_FCONTEXT)\n#include <boost/context/detail/fcontext.hpp>\n#endif','',1)
    c=c.replace('#if !defined(GORT_SWITCH_BACKEND_FCONTEXT)','#if 1  // mutant: always the asm backend',1)
    return "// MUTANT (%s) of solution/lab02/context.cpp (asm backend only).\n"%note + c
M='mutants/lab02/'
s=S.replace('        pushq   %r12\n        .cfi_adjust_cfa_offset 8\n','        subq    $8, %rsp                // BUG: r12 is not saved\n        .cfi_adjust_cfa_offset 8\n')
s=s.replace('        popq    %r12\n','        addq    $8, %rsp                // BUG: r12 is not restored\n')
s=s.replace('        movq    %r12, %rdi              // entry','        movq    %rbx, %rdi              // entry (in rbx\'s slot here)')
assert s.count('BUG')==2
open(M+'r12-not-saved/switch_context.S','w').write(asm_only_S(s,'r12-not-saved: the switch forgets r12'))
c=C.replace('      fn,      // r12: the entry function, for the trampoline\n      0,       // rbx\n','      0,       // BUG: r12 is not saved (no slot of its own)\n      fn,      // rbx: the entry function, for this trampoline\n')
assert c!=C
open(M+'r12-not-saved/context.cpp','w').write(asm_only_C(c,'r12-not-saved: entry travels in rbx'))
s=S.replace('        stmxcsr 8(%rsp)\n','        // BUG: MXCSR is not saved\n').replace('        ldmxcsr 8(%rsp)\n','        // BUG: nor restored\n')
assert s.count('BUG')==2
open(M+'mxcsr-not-saved/switch_context.S','w').write(asm_only_S(s,'mxcsr-not-saved'))
open(M+'mxcsr-not-saved/context.cpp','w').write(asm_only_C(C,'mxcsr-not-saved: unchanged'))
c=C.replace('  w -= 11;\n  const std::uint64_t frame[11] = {','  w -= 10;  // BUG: one padding word too few: the entry runs with a misaligned stack\n  const std::uint64_t frame[10] = {')
c=c.replace('      0,       // padding: after the ret, rsp is 16-aligned here\n','')
assert c.count('BUG')==1
open(M+'misaligned-entry-stack/context.cpp','w').write(asm_only_C(c,'misaligned-entry-stack'))
open(M+'misaligned-entry-stack/switch_context.S','w').write(asm_only_S(S,'misaligned-entry-stack: unchanged'))
St=open('lab02/stack.cpp').read()
s=St.replace('  if (guard != 0 && ::mprotect(base, guard, PROT_NONE) != 0) {','  if (false) {  // BUG: the guard page is never made PROT_NONE')
assert s!=St
open(M+'no-guard-page/stack.cpp','w').write('// MUTANT (no-guard-page) of solution/lab02/stack.cpp.\n'+s)
s=St.replace('MAP_NORESERVE | MAP_STACK, -1, 0);','MAP_NORESERVE | MAP_STACK | MAP_POPULATE, -1, 0);  // BUG: commits everything')
assert s!=St
open(M+'stack-eager-commit/stack.cpp','w').write('// MUTANT (stack-eager-commit) of solution/lab02/stack.cpp.\n'+s)
s=St.replace('::munmap(static_cast<char*>(stack.lo) - stack.guard, stack.size + stack.guard);','::munmap(stack.lo, stack.size);  // BUG: the guard page stays mapped')
assert s!=St
open(M+'free-leaks-guard-page/stack.cpp','w').write('// MUTANT (free-leaks-guard-page) of solution/lab02/stack.cpp.\n'+s)
Co=open('lab02/coro.cpp').read()
s=Co.replace('      runq_.push_back(std::move(current_));','      runq_.push_front(std::move(current_));  // BUG: LIFO, the yielder runs again at once')
assert s!=Co
open(M+'coro-lifo/coro.cpp','w').write('// MUTANT (coro-lifo) of solution/lab02/coro.cpp.\n'+s)
