/* What guest debugging can do on this host (see probe.c). */
#ifndef SHRIKE_GDB_PROBE_H
#define SHRIKE_GDB_PROBE_H

#include <stdbool.h>

struct gdb_host_caps {
	bool debug_exits;          /* DR7 code breakpoints raise KVM_EXIT_DEBUG */
	bool hw_data_breakpoints;  /* DR7 data breakpoints raise KVM_EXIT_DEBUG */
	bool sw_bp_exit;           /* KVM_GUESTDBG_USE_SW_BP reports int3 as KVM_EXIT_DEBUG */
	unsigned guest_debug_flags;  /* KVM_CAP_SET_GUEST_DEBUG2: flags KVM takes */
};

/* Returns 0, or -1 if no probe VM could be made (caps then all off). */
int gdb_probe_host(int kvm_fd, struct gdb_host_caps *caps);

#endif
