build-wt/guest/tests/storm.o: guest/tests/storm.c guest/lib/rt.h
guest/lib/rt.h:
