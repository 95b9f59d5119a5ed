build-wt/src/trace/trace.o: src/trace/trace.c src/trace/trace.h \
 src/x86/cpustate.h src/base/log.h
src/trace/trace.h:
src/x86/cpustate.h:
src/base/log.h:
