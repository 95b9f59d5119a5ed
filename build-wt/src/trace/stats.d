build-wt/src/trace/stats.o: src/trace/stats.c src/trace/stats.h \
 src/core/exits.h src/core/vm.h src/core/chardev.h src/base/mainloop.h \
 src/core/config.h src/x86/cpustate.h src/core/device.h src/core/iobus.h \
 src/base/log.h src/core/irq.h src/core/runstate.h src/base/memory.h \
 src/core/vcpu.h src/loader/loader.h src/base/digest.h src/x86/msr.h \
 src/x86/emulate/emulate.h
src/trace/stats.h:
src/core/exits.h:
src/core/vm.h:
src/core/chardev.h:
src/base/mainloop.h:
src/core/config.h:
src/x86/cpustate.h:
src/core/device.h:
src/core/iobus.h:
src/base/log.h:
src/core/irq.h:
src/core/runstate.h:
src/base/memory.h:
src/core/vcpu.h:
src/loader/loader.h:
src/base/digest.h:
src/x86/msr.h:
src/x86/emulate/emulate.h:
