build-wt/guest/tests/virtiofuzz.o: guest/tests/virtiofuzz.c \
 guest/lib/rt.h
guest/lib/rt.h:
