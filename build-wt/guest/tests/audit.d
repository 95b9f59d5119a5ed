build-wt/guest/tests/audit.o: guest/tests/audit.c guest/lib/rt.h
guest/lib/rt.h:
