build-wt-fuzz/fuzz/snapshot: fuzz/snapshot.c src/core/config.h \
  src/x86/cpustate.h src/base/digest.h src/base/memory.h \
  src/snapshot/format.h src/snapshot/snapshot.h

src/core/config.h:

src/x86/cpustate.h:

src/base/digest.h:

src/base/memory.h:

src/snapshot/format.h:

src/snapshot/snapshot.h:
