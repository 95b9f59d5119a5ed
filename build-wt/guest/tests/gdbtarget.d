build-wt/guest/tests/gdbtarget.o: guest/tests/gdbtarget.c guest/lib/rt.h
guest/lib/rt.h:
