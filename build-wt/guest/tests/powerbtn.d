build-wt/guest/tests/powerbtn.o: guest/tests/powerbtn.c guest/lib/rt.h
guest/lib/rt.h:
