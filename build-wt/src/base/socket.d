build-wt/src/base/socket.o: src/base/socket.c src/base/socket.h \
 src/base/log.h
src/base/socket.h:
src/base/log.h:
