build-wt/src/gdb/breakpoints.o: src/gdb/breakpoints.c \
 src/gdb/breakpoints.h src/base/memory.h
src/gdb/breakpoints.h:
src/base/memory.h:
