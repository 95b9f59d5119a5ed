build-wt-fuzz/fuzz/virtqueue: fuzz/virtqueue.c src/base/memory.h \
  src/virtio/queue.h

src/base/memory.h:

src/virtio/queue.h:
