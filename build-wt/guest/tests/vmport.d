build-wt/guest/tests/vmport.o: guest/tests/vmport.c guest/lib/rt.h
guest/lib/rt.h:
