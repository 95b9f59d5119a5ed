build-wt/guest/tests/exitcode.o: guest/tests/exitcode.c guest/lib/rt.h
guest/lib/rt.h:
