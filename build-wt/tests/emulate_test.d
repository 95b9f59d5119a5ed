build-wt/tests/emulate_test: tests/unit/emulate_test.c src/base/memory.h \
 tests/unit/check.h src/x86/emulate/emulate.h src/x86/cpustate.h
src/base/memory.h:
tests/unit/check.h:
src/x86/emulate/emulate.h:
src/x86/cpustate.h:
