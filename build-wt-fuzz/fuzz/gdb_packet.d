build-wt-fuzz/fuzz/gdb_packet: fuzz/gdb_packet.c src/gdb/packet.h \
  src/base/strbuf.h

src/gdb/packet.h:

src/base/strbuf.h:
