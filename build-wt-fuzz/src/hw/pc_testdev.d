build-wt-fuzz/src/hw/pc_testdev.o: src/hw/pc_testdev.c src/core/irq.h \
  src/base/log.h src/core/vm.h src/core/chardev.h src/base/mainloop.h \
  src/core/config.h src/x86/cpustate.h src/core/device.h \
  src/core/iobus.h src/core/runstate.h src/base/memory.h src/core/vcpu.h \
  src/loader/loader.h src/base/digest.h src/x86/entry.h src/x86/msr.h \
  src/hw/devices.h src/base/stream.h src/base/strbuf.h

src/core/irq.h:

src/base/log.h:

src/core/vm.h:

src/core/chardev.h:

src/base/mainloop.h:

src/core/config.h:

src/x86/cpustate.h:

src/core/device.h:

src/core/iobus.h:

src/core/runstate.h:

src/base/memory.h:

src/core/vcpu.h:

src/loader/loader.h:

src/base/digest.h:

src/x86/entry.h:

src/x86/msr.h:

src/hw/devices.h:

src/base/stream.h:

src/base/strbuf.h:
