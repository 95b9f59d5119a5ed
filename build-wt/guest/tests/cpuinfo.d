build-wt/guest/tests/cpuinfo.o: guest/tests/cpuinfo.c guest/lib/rt.h
guest/lib/rt.h:
