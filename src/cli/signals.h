/*
 * The process's signals, a policy of the composition root, not of the
 * machine: SIGINT, SIGTERM and SIGHUP are blocked in every thread before
 * the first one starts (vCPU threads take only the kick signal) and served
 * by the main loop through a signalfd.
 *   QEMU's personality: all three end the VM with status 0 and QEMU's
 *                       "terminating on signal N from pid P (name)" line;
 *   shrike's:           SIGINT and SIGTERM end it with 128 + N, SIGHUP
 *                       resets the machine and the guest goes on.
 * A signal that ends the VM also says to give up writing what the guest
 * printed to a slow reader.
 */
#ifndef SHRIKE_SIGNALS_H
#define SHRIKE_SIGNALS_H

struct vm;
struct signal_watch;

/* Blocks the VM's signals (and the kick signal) in the calling thread and
 * every thread it starts from now on. */
void signals_block(void);

/* Serves them on the VM's main loop from now on; NULL (logged) if that
 * cannot be done. */
struct signal_watch *signals_watch(struct vm *vm);
/* Off the main loop, closed, freed (NULL: nothing). */
void signals_close(struct signal_watch *w);

#endif
