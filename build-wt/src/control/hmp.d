build-wt/src/control/hmp.o: src/control/hmp.c src/control/hmp.h \
 src/base/strbuf.h src/core/vcpu.h src/x86/cpustate.h src/core/vm.h \
 src/core/chardev.h src/base/mainloop.h src/core/config.h \
 src/core/device.h src/core/iobus.h src/base/log.h src/core/irq.h \
 src/core/runstate.h src/base/memory.h src/loader/loader.h \
 src/base/digest.h src/x86/entry.h src/x86/msr.h src/x86/dump.h
src/control/hmp.h:
src/base/strbuf.h:
src/core/vcpu.h:
src/x86/cpustate.h:
src/core/vm.h:
src/core/chardev.h:
src/base/mainloop.h:
src/core/config.h:
src/core/device.h:
src/core/iobus.h:
src/base/log.h:
src/core/irq.h:
src/core/runstate.h:
src/base/memory.h:
src/loader/loader.h:
src/base/digest.h:
src/x86/entry.h:
src/x86/msr.h:
src/x86/dump.h:
