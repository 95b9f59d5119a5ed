build-wt/guest/tests/emufail.o: guest/tests/emufail.c guest/lib/rt.h
guest/lib/rt.h:
