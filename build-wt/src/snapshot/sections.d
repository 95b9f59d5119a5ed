build-wt/src/snapshot/sections.o: src/snapshot/sections.c \
 src/snapshot/sections.h src/base/digest.h src/base/memory.h \
 src/base/stream.h src/base/strbuf.h src/base/log.h src/core/vm.h \
 src/core/chardev.h src/base/mainloop.h src/core/config.h \
 src/x86/cpustate.h src/core/device.h src/core/iobus.h src/core/irq.h \
 src/core/runstate.h src/core/vcpu.h src/loader/loader.h src/x86/entry.h \
 src/x86/msr.h src/snapshot/format.h
src/snapshot/sections.h:
src/base/digest.h:
src/base/memory.h:
src/base/stream.h:
src/base/strbuf.h:
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
src/core/vcpu.h:
src/loader/loader.h:
src/x86/entry.h:
src/x86/msr.h:
src/snapshot/format.h:
