build-wt/guest/tests/garbage.o: guest/tests/garbage.c guest/lib/rt.h
guest/lib/rt.h:
