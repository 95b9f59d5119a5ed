build-wt/src/x86/msr.o: src/x86/msr.c src/x86/msr.h src/x86/cpuid.h
src/x86/msr.h:
src/x86/cpuid.h:
