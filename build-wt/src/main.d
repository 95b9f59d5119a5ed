build-wt/src/main.o: src/main.c src/cli/catalog.h src/cli/launch.h \
 src/core/config.h src/x86/cpustate.h src/cli/qemu.h src/core/config.h \
 src/base/log.h src/base/version.h src/core/vcpu.h src/x86/cpumodel.h \
 src/x86/cpufeatures.h src/x86/cpuid.h
src/cli/catalog.h:
src/cli/launch.h:
src/core/config.h:
src/x86/cpustate.h:
src/cli/qemu.h:
src/core/config.h:
src/base/log.h:
src/base/version.h:
src/core/vcpu.h:
src/x86/cpumodel.h:
src/x86/cpufeatures.h:
src/x86/cpuid.h:
