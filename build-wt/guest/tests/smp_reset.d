build-wt/guest/tests/smp_reset.o: guest/tests/smp_reset.c guest/lib/rt.h
guest/lib/rt.h:
