build-wt/guest/tests/pcitestdev.o: guest/tests/pcitestdev.c \
 guest/lib/rt.h
guest/lib/rt.h:
