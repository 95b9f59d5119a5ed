build-wt-fuzz/src/loader/decompress.o: src/loader/decompress.c \
  src/base/log.h src/loader/kcache.h src/base/digest.h \
  src/loader/loader.h src/base/memory.h src/x86/entry.h

src/base/log.h:

src/loader/kcache.h:

src/base/digest.h:

src/loader/loader.h:

src/base/memory.h:

src/x86/entry.h:
