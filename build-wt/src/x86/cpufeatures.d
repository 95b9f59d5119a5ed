build-wt/src/x86/cpufeatures.o: src/x86/cpufeatures.c \
 src/x86/cpufeatures.h src/x86/cpuid.h
src/x86/cpufeatures.h:
src/x86/cpuid.h:
