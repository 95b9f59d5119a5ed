build-wt/guest/tests/portfuzz.o: guest/tests/portfuzz.c guest/lib/rt.h
guest/lib/rt.h:
