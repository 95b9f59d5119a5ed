build-wt-fuzz/src/virtio/model.o: src/virtio/model.c src/virtio/virtio.h \
  src/base/log.h src/hw/msix.h src/hw/pci.h src/core/iobus.h \
  src/base/memory.h src/virtio/queue.h src/core/vm.h src/core/chardev.h \
  src/base/mainloop.h src/core/config.h src/x86/cpustate.h \
  src/core/device.h src/core/irq.h src/core/runstate.h src/core/vcpu.h \
  src/loader/loader.h src/base/digest.h src/x86/entry.h src/x86/msr.h \
  src/base/stream.h src/base/strbuf.h

src/virtio/virtio.h:

src/base/log.h:

src/hw/msix.h:

src/hw/pci.h:

src/core/iobus.h:

src/base/memory.h:

src/virtio/queue.h:

src/core/vm.h:

src/core/chardev.h:

src/base/mainloop.h:

src/core/config.h:

src/x86/cpustate.h:

src/core/device.h:

src/core/irq.h:

src/core/runstate.h:

src/core/vcpu.h:

src/loader/loader.h:

src/base/digest.h:

src/x86/entry.h:

src/x86/msr.h:

src/base/stream.h:

src/base/strbuf.h:
