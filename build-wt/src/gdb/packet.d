build-wt/src/gdb/packet.o: src/gdb/packet.c src/gdb/packet.h \
 src/base/strbuf.h src/base/hex.h
src/gdb/packet.h:
src/base/strbuf.h:
src/base/hex.h:
