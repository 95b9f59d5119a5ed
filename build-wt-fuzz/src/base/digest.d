build-wt-fuzz/src/base/digest.o: src/base/digest.c src/base/digest.h

src/base/digest.h:
