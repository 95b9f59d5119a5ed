build-wt/tests/decompress_test: tests/unit/decompress_test.c \
 tests/unit/check.h src/base/log.h src/loader/kcache.h src/base/digest.h \
 src/loader/loader.h src/base/memory.h src/x86/entry.h
tests/unit/check.h:
src/base/log.h:
src/loader/kcache.h:
src/base/digest.h:
src/loader/loader.h:
src/base/memory.h:
src/x86/entry.h:
