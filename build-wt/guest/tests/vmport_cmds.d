build-wt/guest/tests/vmport_cmds.o: guest/tests/vmport_cmds.c \
 guest/lib/rt.h
guest/lib/rt.h:
