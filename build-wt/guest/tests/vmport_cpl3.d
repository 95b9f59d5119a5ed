build-wt/guest/tests/vmport_cpl3.o: guest/tests/vmport_cpl3.c \
 guest/lib/rt.h
guest/lib/rt.h:
