build-wt-fuzz/src/x86/cpumodel.o: src/x86/cpumodel.c src/x86/cpumodel.h \
  src/x86/cpufeatures.h src/x86/cpuid.h src/base/log.h

src/x86/cpumodel.h:

src/x86/cpufeatures.h:

src/x86/cpuid.h:

src/base/log.h:
