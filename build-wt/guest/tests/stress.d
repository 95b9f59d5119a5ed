build-wt/guest/tests/stress.o: guest/tests/stress.c guest/lib/rt.h
guest/lib/rt.h:
