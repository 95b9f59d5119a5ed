build-wt/src/control/json.o: src/control/json.c src/control/json.h \
 src/base/strbuf.h src/base/log.h
src/control/json.h:
src/base/strbuf.h:
src/base/log.h:
