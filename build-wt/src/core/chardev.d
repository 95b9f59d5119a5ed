build-wt/src/core/chardev.o: src/core/chardev.c src/core/chardev.h \
 src/base/mainloop.h src/base/log.h
src/core/chardev.h:
src/base/mainloop.h:
src/base/log.h:
