build-wt/src/hw/vmport.o: src/hw/vmport.c src/base/log.h src/core/vm.h \
 src/core/chardev.h src/base/mainloop.h src/core/config.h \
 src/x86/cpustate.h src/core/device.h src/core/iobus.h src/core/irq.h \
 src/core/runstate.h src/base/memory.h src/core/vcpu.h \
 src/loader/loader.h src/base/digest.h src/x86/entry.h src/x86/msr.h \
 src/hw/devices.h src/x86/cpuid.h
src/base/log.h:
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
src/hw/devices.h:
src/x86/cpuid.h:
