build-wt/src/x86/e820.o: src/x86/e820.c src/x86/e820.h src/base/memory.h
src/x86/e820.h:
src/base/memory.h:
