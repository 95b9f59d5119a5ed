build-wt/guest/tests/hello.o: guest/tests/hello.c guest/lib/rt.h
guest/lib/rt.h:
