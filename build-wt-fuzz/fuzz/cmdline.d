build-wt-fuzz/fuzz/cmdline: fuzz/cmdline.c src/cli/qemu.h \
  src/core/config.h src/x86/cpustate.h src/control/qmp.h src/base/log.h \
  src/gdb/gdbstub.h src/x86/cpumodel.h src/x86/cpufeatures.h \
  src/x86/cpuid.h

src/cli/qemu.h:

src/core/config.h:

src/x86/cpustate.h:

src/control/qmp.h:

src/base/log.h:

src/gdb/gdbstub.h:

src/x86/cpumodel.h:

src/x86/cpufeatures.h:

src/x86/cpuid.h:
