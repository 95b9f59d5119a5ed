build-wt/guest/tests/msrtrip.o: guest/tests/msrtrip.c guest/lib/rt.h
guest/lib/rt.h:
