build-wt/guest/lib/platform.o: guest/lib/platform.c guest/lib/rt.h
guest/lib/rt.h:
