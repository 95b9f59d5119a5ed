build-wt-fuzz/src/loader/linux.o: src/loader/linux.c src/base/log.h \
  src/loader/loader.h src/base/digest.h src/base/memory.h \
  src/x86/entry.h src/x86/acpi.h src/x86/e820.h

src/base/log.h:

src/loader/loader.h:

src/base/digest.h:

src/base/memory.h:

src/x86/entry.h:

src/x86/acpi.h:

src/x86/e820.h:
