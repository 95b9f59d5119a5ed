/* What the user asked for: the parsed command line. */
#ifndef SHRIKE_CONFIG_H
#define SHRIKE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "x86/cpustate.h"

#define MAX_MODULES 16

enum serial_backend { SERIAL_STDIO, SERIAL_NONE, SERIAL_FILE, SERIAL_SOCKET };
enum on_reboot { REBOOT_RESET, REBOOT_EXIT };
enum kernel_format { FORMAT_AUTO, FORMAT_FLAT };
/* How a guest's debug-exit value becomes the exit status: QEMU's (v << 1) | 1,
 * which can collide with shrike's own statuses (1, 128 + n), or distinct:
 * never one of those (values that would collide give 127). */
enum debug_exit_status { DEBUG_EXIT_QEMU, DEBUG_EXIT_DISTINCT };
/* Where the PIC, IOAPIC and PIT live: KVM (kernel) or shrike (split; the
 * LAPIC stays in KVM). */
enum irqchip_mode { IRQCHIP_KERNEL, IRQCHIP_SPLIT };

struct kvm_cpuid2;

struct module_arg {
	const char *path;
	const char *args;          /* may be NULL */
};

#define MAX_DISKS 8

struct disk_config {
	const char *path;
	bool readonly;
	char serial[21];           /* VIRTIO_BLK_ID_BYTES, not NUL-terminated when full */
};

#define MAX_NETS 4

/* --net tap:IFNAME[,mac=M] | tap-fd:N[,mac=M]: a virtio-net card. */
struct net_backend_config {
	char spec[96];             /* as given (cut), for messages */
	char ifname[16];           /* IFNAMSIZ; empty with a descriptor */
	char id[64];               /* id=, for QMP's set_link (default netN) */
	int fd;                    /* tap-fd:N, else -1 */
	bool mac_set;
	uint8_t mac[6];            /* mac_set, or derived from the VM's UUID */
};

/* --vsock cid=N[,uds=PATH]: a virtio-vsock device; its host side is the
 * kernel's vhost-vsock, or with uds shrike's own (Firecracker's hybrid
 * form: host ends are Unix sockets). */
#define VSOCK_UDS_MAX 96         /* PATH_4294967295 fits sun_path */

struct vsock_config {
	bool set;
	uint64_t cid;              /* the guest's: 3 .. 2^32 - 2 */
	const char *uds;           /* NULL: vhost-vsock */
};

#define MAX_SNAPSHOT_DIRS 4

struct vm_config {
	const char *kernel_path;
	enum kernel_format kernel_format;
	int kernel_boot;           /* enum kernel_boot (loader/loader.h) */
	const char *initrd_path;
	const char *cmdline;       /* NULL: not given */
	struct module_arg modules[MAX_MODULES];
	unsigned nmodules;
	unsigned cpus;
	uint64_t memory;
	enum serial_backend serial;
	const char *serial_path;
	enum on_reboot on_reboot;
	enum sync_mode sync;
	const char *trace_path;
	bool trace_msrs;
	bool stats;
	bool log_guest_errors;     /* --log guest-errors (QEMU's -d guest_errors) */
	int seccomp;               /* enum sandbox_mode (core/sandbox.h) */
	bool no_vmport;
	bool no_vapic;
	bool no_debug_exit;
	uint16_t debug_exit_port;  /* 0: 0xf4 */
	uint16_t debug_exit_size;  /* 0: 4 */
	enum debug_exit_status debug_exit_status;
	bool pc_testdev;           /* QEMU's pc-testdev (-device pc-testdev) */
	bool pci_testdev;          /* QEMU's pci-testdev */
	struct disk_config disks[MAX_DISKS];   /* --disk, virtio-blk */
	unsigned ndisks;
	struct net_backend_config nets[MAX_NETS];  /* --net, virtio-net */
	unsigned nnets;
	struct vsock_config vsock; /* --vsock */
	bool rng;                  /* --rng, virtio-rng */
	bool console_virtio;       /* --console virtio: hvc0 takes the console's input */
	bool qemu_personality;     /* invoked as qemu-system-x86_64: QEMU's messages */
	bool no_shutdown;          /* a guest power-off stops the VM, does not end it */
	bool emulate;              /* complete what KVM's emulator cannot (x86/emulate) */
	const char *linux_profile; /* options added to a Linux command line */
	const char *name;          /* --name (QMP query-name) */
	uint64_t start_ns;         /* when main() began (the start-up timeline) */
	const char *qmp;           /* --qmp unix:PATH[,server=on][,wait=off] */
	const char *incoming;      /* --incoming file:PATH: restore a snapshot */
	bool start_paused;         /* -S: vCPUs wait for QMP cont or a debugger */
	const char *gdb;           /* --gdb tcp:HOST:PORT | unix:PATH */
	bool gdb_wait;             /* --gdb-wait: prelaunch until gdb continues */
	bool gdb_allow_remote;     /* --gdb-allow-remote: a non-loopback address */
	const char *snapshot_dir[MAX_SNAPSHOT_DIRS]; /* --snapshot-dir: where migrate may write */
	unsigned nsnapshot_dirs;
	bool restore_read;         /* --incoming: read RAM instead of mapping it */
	bool cpus_set, memory_set; /* given on the command line */
	const char *cpu_model;     /* --cpu (NULL: host) */
	enum irqchip_mode irqchip;
	/* Set by a restore: the vCPUs' CPUID table, and the snapshot file the
	 * RAM is mapped from (a save over it is refused). */
	const struct kvm_cpuid2 *cpuid;
	uint64_t mapped_dev, mapped_ino;
	int64_t rtc_offset_sec;    /* guest RTC - host UTC at start (-rtc base=) */
	const char *pidfile;       /* -pidfile */
	bool uuid_set;
	uint8_t uuid[16];          /* --uuid, in string (RFC 4122) byte order */
};

void config_defaults(struct vm_config *cfg);

/* Parses "run" options (argv[0] is the first option).  Returns 0, or -1
 * with a one-line message in err. */
int config_parse(struct vm_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* --net's value (tap:IFNAME[,mac=M] | tap-fd:N[,mac=M], changed in
 * place): one more card.  0, or -1 with a message in err. */
int config_add_net(struct vm_config *cfg, char *val, char *err, size_t errlen);

/* --vsock's value (cid=N[,uds=PATH], changed in place).  0, or -1 with a
 * message in err. */
int config_set_vsock(struct vm_config *cfg, char *val, char *err, size_t errlen);

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".  -1 if malformed. */
int parse_uuid(const char *s, uint8_t out[16]);

/* Parses a size with an optional K/M/G/T suffix (binary).  -1 if malformed. */
int parse_size(const char *s, uint64_t *out);

#endif
