build-wt/guest/lib/start.o: guest/lib/start.S
