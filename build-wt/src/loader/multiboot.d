build-wt/src/loader/multiboot.o: src/loader/multiboot.c src/base/log.h \
 src/loader/loader.h src/base/digest.h src/base/memory.h src/x86/entry.h \
 src/x86/e820.h
src/base/log.h:
src/loader/loader.h:
src/base/digest.h:
src/base/memory.h:
src/x86/entry.h:
src/x86/e820.h:
