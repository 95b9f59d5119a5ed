build-wt/tests/acpi_test: tests/unit/acpi_test.c tests/unit/check.h \
 src/board/board.h src/hw/pci.h src/core/iobus.h src/base/log.h \
 src/base/memory.h src/x86/acpi.h
tests/unit/check.h:
src/board/board.h:
src/hw/pci.h:
src/core/iobus.h:
src/base/log.h:
src/base/memory.h:
src/x86/acpi.h:
