build-wt-fuzz/src/loader/loader.o: src/loader/loader.c \
  src/loader/loader.h src/base/digest.h src/base/memory.h \
  src/x86/entry.h src/base/log.h src/loader/tmpfile.h src/x86/acpi.h

src/loader/loader.h:

src/base/digest.h:

src/base/memory.h:

src/x86/entry.h:

src/base/log.h:

src/loader/tmpfile.h:

src/x86/acpi.h:
