build-wt/guest/tests/rtcyear.o: guest/tests/rtcyear.c guest/lib/rt.h
guest/lib/rt.h:
