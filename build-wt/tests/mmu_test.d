build-wt/tests/mmu_test: tests/unit/mmu_test.c tests/unit/check.h \
 src/base/memory.h src/x86/mmu.h
tests/unit/check.h:
src/base/memory.h:
src/x86/mmu.h:
