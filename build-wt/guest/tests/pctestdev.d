build-wt/guest/tests/pctestdev.o: guest/tests/pctestdev.c guest/lib/rt.h
guest/lib/rt.h:
