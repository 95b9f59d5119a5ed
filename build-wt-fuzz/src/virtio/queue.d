build-wt-fuzz/src/virtio/queue.o: src/virtio/queue.c src/virtio/queue.h \
  src/base/log.h src/base/memory.h

src/virtio/queue.h:

src/base/log.h:

src/base/memory.h:
