build-wt/guest/tests/triplefault.o: guest/tests/triplefault.c \
 guest/lib/rt.h
guest/lib/rt.h:
