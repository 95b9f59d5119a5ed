build-wt/guest/tests/echo.o: guest/tests/echo.c guest/lib/rt.h
guest/lib/rt.h:
