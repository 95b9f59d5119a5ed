build-wt-fuzz/src/cli/qemu.o: src/cli/qemu.c src/cli/qemu.h \
  src/core/config.h src/x86/cpustate.h src/cli/catalog.h \
  src/cli/launch.h src/base/log.h src/core/vcpu.h src/base/version.h \
  src/x86/cpumodel.h src/x86/cpufeatures.h src/x86/cpuid.h

src/cli/qemu.h:

src/core/config.h:

src/x86/cpustate.h:

src/cli/catalog.h:

src/cli/launch.h:

src/base/log.h:

src/core/vcpu.h:

src/base/version.h:

src/x86/cpumodel.h:

src/x86/cpufeatures.h:

src/x86/cpuid.h:
