build-wt/src/core/sandbox.o: src/core/sandbox.c src/core/sandbox.h \
 src/core/chardev.h src/base/mainloop.h src/base/log.h
src/core/sandbox.h:
src/core/chardev.h:
src/base/mainloop.h:
src/base/log.h:
