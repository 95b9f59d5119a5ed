build-wt/tests/cpumodel_test: tests/unit/cpumodel_test.c \
 tests/unit/check.h src/x86/cpumodel.h src/x86/cpufeatures.h \
 src/x86/cpuid.h
tests/unit/check.h:
src/x86/cpumodel.h:
src/x86/cpufeatures.h:
src/x86/cpuid.h:
