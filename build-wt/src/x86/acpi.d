build-wt/src/x86/acpi.o: src/x86/acpi.c src/x86/acpi.h
src/x86/acpi.h:
