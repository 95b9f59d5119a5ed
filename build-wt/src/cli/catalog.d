build-wt/src/cli/catalog.o: src/cli/catalog.c src/cli/catalog.h
src/cli/catalog.h:
