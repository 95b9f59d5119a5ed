build-wt-fuzz/src/x86/emulate/fpu.o: src/x86/emulate/fpu.c \
  src/x86/emulate/internal.h src/x86/cpuid.h src/x86/cpustate.h \
  src/x86/emulate/emulate.h src/x86/mmu.h src/base/memory.h

src/x86/emulate/internal.h:

src/x86/cpuid.h:

src/x86/cpustate.h:

src/x86/emulate/emulate.h:

src/x86/mmu.h:

src/base/memory.h:
