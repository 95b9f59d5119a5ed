build-wt-fuzz/src/x86/cpuid.o: src/x86/cpuid.c src/x86/cpuid.h

src/x86/cpuid.h:
