build-wt/tests/virtq_test: tests/unit/virtq_test.c tests/unit/check.h \
 src/base/memory.h src/virtio/queue.h
tests/unit/check.h:
src/base/memory.h:
src/virtio/queue.h:
