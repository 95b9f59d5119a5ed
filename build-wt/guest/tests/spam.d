build-wt/guest/tests/spam.o: guest/tests/spam.c guest/lib/rt.h
guest/lib/rt.h:
