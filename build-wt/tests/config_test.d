build-wt/tests/config_test: tests/unit/config_test.c tests/unit/check.h \
 src/core/config.h src/x86/cpustate.h
tests/unit/check.h:
src/core/config.h:
src/x86/cpustate.h:
