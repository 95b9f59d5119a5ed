build-wt-fuzz/fuzz/loader: fuzz/loader.c src/base/memory.h \
  src/board/board.h src/loader/loader.h src/base/digest.h \
  src/x86/entry.h

src/base/memory.h:

src/board/board.h:

src/loader/loader.h:

src/base/digest.h:

src/x86/entry.h:
