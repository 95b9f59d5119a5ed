build-wt/guest/tests/acpifind.o: guest/tests/acpifind.c guest/lib/rt.h
guest/lib/rt.h:
