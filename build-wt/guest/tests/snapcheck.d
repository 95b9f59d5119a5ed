build-wt/guest/tests/snapcheck.o: guest/tests/snapcheck.c guest/lib/rt.h
guest/lib/rt.h:
