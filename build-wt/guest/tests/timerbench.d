build-wt/guest/tests/timerbench.o: guest/tests/timerbench.c \
 guest/lib/rt.h
guest/lib/rt.h:
