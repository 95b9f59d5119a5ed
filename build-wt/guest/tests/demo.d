build-wt/guest/tests/demo.o: guest/tests/demo.c guest/lib/rt.h
guest/lib/rt.h:
