build-wt-fuzz/src/core/config.o: src/core/config.c src/core/config.h \
  src/x86/cpustate.h src/base/log.h src/base/hex.h src/core/sandbox.h \
  src/x86/cpumodel.h src/x86/cpufeatures.h src/x86/cpuid.h

src/core/config.h:

src/x86/cpustate.h:

src/base/log.h:

src/base/hex.h:

src/core/sandbox.h:

src/x86/cpumodel.h:

src/x86/cpufeatures.h:

src/x86/cpuid.h:
