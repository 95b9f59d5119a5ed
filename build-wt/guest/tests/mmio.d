build-wt/guest/tests/mmio.o: guest/tests/mmio.c guest/lib/rt.h
guest/lib/rt.h:
