build-wt/tests/loader_test: tests/unit/loader_test.c src/board/board.h \
 tests/unit/check.h src/base/memory.h src/loader/loader.h \
 src/base/digest.h src/x86/entry.h src/x86/e820.h
src/board/board.h:
tests/unit/check.h:
src/base/memory.h:
src/loader/loader.h:
src/base/digest.h:
src/x86/entry.h:
src/x86/e820.h:
