build-wt/tests/gdb_packet_test: tests/unit/gdb_packet_test.c \
 tests/unit/check.h src/gdb/packet.h src/base/strbuf.h
tests/unit/check.h:
src/gdb/packet.h:
src/base/strbuf.h:
