build-wt/guest/tests/bootinfo.o: guest/tests/bootinfo.c guest/lib/rt.h
guest/lib/rt.h:
