build-wt/guest/tests/resetloop.o: guest/tests/resetloop.c guest/lib/rt.h
guest/lib/rt.h:
