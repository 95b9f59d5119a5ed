build-wt/src/loader/tmpfile.o: src/loader/tmpfile.c src/loader/tmpfile.h
src/loader/tmpfile.h:
