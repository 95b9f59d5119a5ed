build-wt-fuzz/src/virtio/rng.o: src/virtio/rng.c src/base/log.h \
  src/core/vm.h src/core/chardev.h src/base/mainloop.h src/core/config.h \
  src/x86/cpustate.h src/core/device.h src/core/iobus.h src/core/irq.h \
  src/core/runstate.h src/base/memory.h src/core/vcpu.h \
  src/loader/loader.h src/base/digest.h src/x86/entry.h src/x86/msr.h \
  src/hw/devices.h src/virtio/virtio.h src/hw/msix.h src/hw/pci.h \
  src/virtio/queue.h

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

src/virtio/virtio.h:

src/hw/msix.h:

src/hw/pci.h:

src/virtio/queue.h:
