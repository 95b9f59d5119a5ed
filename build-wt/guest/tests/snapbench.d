build-wt/guest/tests/snapbench.o: guest/tests/snapbench.c guest/lib/rt.h
guest/lib/rt.h:
