build-wt-fuzz/src/control/qmp.o: src/control/qmp.c src/control/qmp.h \
  src/control/hmp.h src/base/strbuf.h src/control/json.h \
  src/control/migration.h src/control/qmp_commands.h src/base/log.h \
  src/base/socket.h src/core/vm.h src/core/chardev.h src/base/mainloop.h \
  src/core/config.h src/x86/cpustate.h src/core/device.h \
  src/core/iobus.h src/core/irq.h src/core/runstate.h src/base/memory.h \
  src/core/vcpu.h src/loader/loader.h src/base/digest.h src/x86/entry.h \
  src/x86/msr.h

src/control/qmp.h:

src/control/hmp.h:

src/base/strbuf.h:

src/control/json.h:

src/control/migration.h:

src/control/qmp_commands.h:

src/base/log.h:

src/base/socket.h:

src/core/vm.h:

src/core/chardev.h:

src/base/mainloop.h:

src/core/config.h:

src/x86/cpustate.h:

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
