build-wt/guest/lib/rt.o: guest/lib/rt.c guest/lib/rt.h
guest/lib/rt.h:
