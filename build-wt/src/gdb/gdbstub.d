build-wt/src/gdb/gdbstub.o: src/gdb/gdbstub.c src/gdb/gdbstub.h \
 src/core/guestdbg.h src/base/log.h src/base/socket.h src/core/vm.h \
 src/core/chardev.h src/base/mainloop.h src/core/config.h \
 src/x86/cpustate.h src/core/device.h src/core/iobus.h src/core/irq.h \
 src/core/runstate.h src/base/memory.h src/core/vcpu.h \
 src/loader/loader.h src/base/digest.h src/x86/entry.h src/x86/msr.h \
 src/gdb/internal.h src/base/strbuf.h src/gdb/breakpoints.h \
 src/gdb/packet.h src/gdb/probe.h src/x86/mmu.h src/gdb/regs.h
src/gdb/gdbstub.h:
src/core/guestdbg.h:
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
src/gdb/internal.h:
src/base/strbuf.h:
src/gdb/breakpoints.h:
src/gdb/packet.h:
src/gdb/probe.h:
src/x86/mmu.h:
src/gdb/regs.h:
