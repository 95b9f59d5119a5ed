build-wt/src/gdb/probe.o: src/gdb/probe.c src/gdb/probe.h
src/gdb/probe.h:
