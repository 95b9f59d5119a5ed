build-wt/guest/tests/reboot.o: guest/tests/reboot.c guest/lib/rt.h
guest/lib/rt.h:
