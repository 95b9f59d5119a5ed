build-wt/src/loader/kcache.o: src/loader/kcache.c src/loader/kcache.h \
 src/base/digest.h src/base/log.h src/loader/loader.h src/base/memory.h \
 src/x86/entry.h src/loader/tmpfile.h
src/loader/kcache.h:
src/base/digest.h:
src/base/log.h:
src/loader/loader.h:
src/base/memory.h:
src/x86/entry.h:
src/loader/tmpfile.h:
