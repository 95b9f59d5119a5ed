build-wt/guest/lib/start-aout.o: guest/lib/start.S
