build-wt/guest/tests/clobber.o: guest/tests/clobber.c guest/lib/rt.h
guest/lib/rt.h:
