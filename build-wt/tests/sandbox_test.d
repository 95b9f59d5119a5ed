build-wt/tests/sandbox_test: tests/unit/sandbox_test.c tests/unit/check.h \
 src/core/sandbox.h
tests/unit/check.h:
src/core/sandbox.h:
