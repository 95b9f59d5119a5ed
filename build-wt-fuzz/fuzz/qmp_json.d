build-wt-fuzz/fuzz/qmp_json: fuzz/qmp_json.c src/control/json.h \
  src/base/strbuf.h

src/control/json.h:

src/base/strbuf.h:
