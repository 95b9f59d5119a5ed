build-wt/guest/tests/ports.o: guest/tests/ports.c guest/lib/rt.h
guest/lib/rt.h:
