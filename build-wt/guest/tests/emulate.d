build-wt/guest/tests/emulate.o: guest/tests/emulate.c guest/lib/rt.h
guest/lib/rt.h:
