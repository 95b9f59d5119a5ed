build-wt-fuzz/fuzz/decompress: fuzz/decompress.c src/loader/loader.h \
  src/base/digest.h src/base/memory.h src/x86/entry.h

src/loader/loader.h:

src/base/digest.h:

src/base/memory.h:

src/x86/entry.h:
