build-wt/src/gdb/commands.o: src/gdb/commands.c src/gdb/internal.h \
 src/base/strbuf.h src/gdb/breakpoints.h src/base/memory.h \
 src/gdb/packet.h src/gdb/probe.h src/x86/mmu.h src/control/hmp.h \
 src/core/vcpu.h src/x86/cpustate.h src/core/vm.h src/core/chardev.h \
 src/base/mainloop.h src/core/config.h src/core/device.h src/core/iobus.h \
 src/base/log.h src/core/irq.h src/core/runstate.h src/loader/loader.h \
 src/base/digest.h src/x86/entry.h src/x86/msr.h src/gdb/regs.h
src/gdb/internal.h:
src/base/strbuf.h:
src/gdb/breakpoints.h:
src/base/memory.h:
src/gdb/packet.h:
src/gdb/probe.h:
src/x86/mmu.h:
src/control/hmp.h:
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
src/loader/loader.h:
src/base/digest.h:
src/x86/entry.h:
src/x86/msr.h:
src/gdb/regs.h:
