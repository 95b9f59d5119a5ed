build-wt/src/x86/trace.o: src/x86/trace.c src/x86/trace.h \
 src/x86/cpustate.h src/base/log.h
src/x86/trace.h:
src/x86/cpustate.h:
src/base/log.h:
