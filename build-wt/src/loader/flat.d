build-wt/src/loader/flat.o: src/loader/flat.c src/base/log.h \
 src/loader/loader.h src/base/digest.h src/base/memory.h src/x86/entry.h
src/base/log.h:
src/loader/loader.h:
src/base/digest.h:
src/base/memory.h:
src/x86/entry.h:
