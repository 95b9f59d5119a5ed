build-wt-fuzz/src/cli/launch.o: src/cli/launch.c src/cli/launch.h \
  src/core/config.h src/x86/cpustate.h src/board/board.h \
  src/cli/signals.h src/cli/stats.h src/control/qmp.h src/gdb/gdbstub.h \
  src/base/log.h src/core/sandbox.h src/core/vm.h src/core/chardev.h \
  src/base/mainloop.h src/core/device.h src/core/iobus.h src/core/irq.h \
  src/core/runstate.h src/base/memory.h src/core/vcpu.h \
  src/loader/loader.h src/base/digest.h src/x86/entry.h src/x86/msr.h \
  src/snapshot/snapshot.h src/x86/trace.h

src/cli/launch.h:

src/core/config.h:

src/x86/cpustate.h:

src/board/board.h:

src/cli/signals.h:

src/cli/stats.h:

src/control/qmp.h:

src/gdb/gdbstub.h:

src/base/log.h:

src/core/sandbox.h:

src/core/vm.h:

src/core/chardev.h:

src/base/mainloop.h:

src/core/device.h:

src/core/iobus.h:

src/core/irq.h:

src/core/runstate.h:

src/base/memory.h:

src/core/vcpu.h:

src/loader/loader.h:

src/base/digest.h:

src/x86/entry.h:

src/x86/msr.h:

src/snapshot/snapshot.h:

src/x86/trace.h:
