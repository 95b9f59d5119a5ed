build-wt/src/x86/mmu.o: src/x86/mmu.c src/x86/mmu.h src/base/memory.h
src/x86/mmu.h:
src/base/memory.h:
