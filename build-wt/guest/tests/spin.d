build-wt/guest/tests/spin.o: guest/tests/spin.c guest/lib/rt.h
guest/lib/rt.h:
