build-wt-fuzz/src/base/mainloop.o: src/base/mainloop.c \
  src/base/mainloop.h

src/base/mainloop.h:
