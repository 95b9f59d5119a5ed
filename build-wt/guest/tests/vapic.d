build-wt/guest/tests/vapic.o: guest/tests/vapic.c guest/lib/rt.h
guest/lib/rt.h:
