build-wt-fuzz/src/base/memory.o: src/base/memory.c src/base/memory.h

src/base/memory.h:
