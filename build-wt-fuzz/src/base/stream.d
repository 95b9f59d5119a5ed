build-wt-fuzz/src/base/stream.o: src/base/stream.c src/base/stream.h \
  src/base/strbuf.h

src/base/stream.h:

src/base/strbuf.h:
