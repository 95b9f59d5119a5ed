build-wt/guest/tests/irqchip.o: guest/tests/irqchip.c guest/lib/rt.h
guest/lib/rt.h:
