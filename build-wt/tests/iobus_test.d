build-wt/tests/iobus_test: tests/unit/iobus_test.c tests/unit/check.h \
 src/core/iobus.h src/base/log.h
tests/unit/check.h:
src/core/iobus.h:
src/base/log.h:
