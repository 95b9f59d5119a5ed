build-wt/src/core/iobus.o: src/core/iobus.c src/core/iobus.h \
 src/base/log.h
src/core/iobus.h:
src/base/log.h:
