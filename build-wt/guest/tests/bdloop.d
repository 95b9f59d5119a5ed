build-wt/guest/tests/bdloop.o: guest/tests/bdloop.c guest/lib/rt.h
guest/lib/rt.h:
