/* shrike: the command line (architecture contract, sections 1 and 2). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/catalog.h"
#include "cli/launch.h"
#include "cli/qemu.h"
#include "core/config.h"
#include "base/log.h"
#include "base/version.h"
#include "core/vcpu.h"
#include "x86/cpumodel.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shrike run --kernel PATH [options]\n"
		"       shrike qemu QEMU-OPTIONS...   (or shrike run as qemu-system-x86_64: QEMU's\n"
		"                                     command line, messages and statuses)\n"
		"       shrike --help | --version\n"
		"\n"
		"options:\n"
		"  --kernel PATH            guest image (multiboot ELF or a.out kludge, or flat)\n"
		"  --kernel-format auto|flat  force a flat binary (real mode at 0x1000:0000)\n"
		"  --kernel-boot auto|protocol|pvh  how a Linux bzImage starts (default auto:\n"
		"                           decompressed on the host, then PVH)\n"
		"  --initrd PATH            first multiboot module\n"
		"  --cmdline STR            kernel command line\n"
		"  --module PATH[,ARGS]     extra multiboot module (repeatable)\n"
		"  --cpus N                 vCPUs, 1..KVM's maximum (default 1)\n"
		"  --memory SIZE            guest RAM, K/M/G suffix (default 256M)\n"
		"  --serial stdio|none|file:PATH  COM1 backend (default stdio)\n"
		"  --on-reboot reset|exit   what a guest reset request does (default reset)\n"
		"  --sync lazy|full         state synchronization mode (default lazy)\n"
		"  --trace-sync PATH        JSON line per vCPU state transfer\n"
		"  --trace-msrs             include MSR values in the trace\n"
		"  --stats                  print exit and sync counters at exit\n"
		"  --seccomp on|off|log     the system-call sandbox after set-up (default on)\n"
		"  --log guest-errors       print what the guest does wrong (unassigned ports,\n"
		"                           ...; counted in --stats either way)\n"
		"  --irqchip split|kernel   PIC, IOAPIC and PIT in shrike (default where KVM\n"
		"                           offers it) or in KVM\n"
		"  --uuid UUID              the VM's UUID (default: random, kept across resets)\n"
		"  --name NAME              the VM's name (QMP query-name)\n"
		"  --no-vmport, --no-vapic  remove those devices\n"
		"  --device NAME            add a device (pc-testdev); --device help lists them\n"
		"  --disk PATH[,ro][,serial=S]  a raw image as a virtio-blk disk (repeatable)\n"
		"  --net tap:IFNAME[,mac=M]|tap-fd:N[,mac=M]  a virtio-net card on a tap\n"
		"                           (repeatable)\n"
		"  --vsock cid=N[,uds=PATH] a virtio-vsock device: host side in the kernel\n"
		"                           (vhost-vsock), or with uds on Unix sockets\n"
		"                           (PATH for the host's, PATH_PORT for the guest's)\n"
		"  --rng                    a virtio-rng device\n"
		"  --console serial|virtio  virtio: hvc0 takes the console's input\n"
		"  --cpu MODEL[,+F,-F,F=on|off,vendor=S]  host (default), max, qemu64, kvm64,\n"
		"                           qemu32, kvm32; --cpu help lists models and features\n"
		"  --debug-exit-status qemu|distinct  guest exit values as QEMU maps them, or\n"
		"                           never colliding with shrike's own statuses\n"
		"  --qmp unix:PATH[,server=on][,wait=off]  QMP control socket\n"
		"  --paused                 start with every vCPU stopped (QMP cont starts them)\n"
		"  --no-shutdown            a guest power-off stops the VM instead of ending it\n"
		"  --gdb tcp:[HOST]:PORT|unix:PATH  gdb remote server (empty HOST: 127.0.0.1;\n"
		"                           PORT 0: a free port, logged)\n"
		"  --gdb-wait               vCPUs wait before their first instruction for gdb\n"
		"  --gdb-allow-remote       let --gdb tcp: listen on an address other hosts reach\n"
		"  --snapshot-dir DIR       migrate may write snapshots beneath DIR only (repeatable;\n"
		"                           default: the working directory and $TMPDIR or /tmp)\n"
		"  --emulate on|off         complete instructions KVM's emulator cannot (default on)\n"
		"  --linux-profile emulated Linux options for KVM back-ends that emulate kernel\n"
		"                           code (appended to the command line)\n"
		"  --incoming file:PATH     restore a snapshot (QMP migrate file:PATH saves one)\n"
		"  --restore-ram map|read   map the snapshot's RAM (default) or read it\n"
		"\n"
		"exit status: 0 power-off, (v<<1)|1 debug-exit write of v, 1 VMM failure,\n"
		"2 bad usage or input, 128+n killed by signal n\n");
}

/* `run --device help`, `run --cpu help`: a listing instead of a VM. */
static bool listing(int argc, char **argv)
{
	for (int i = 2; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--device") && is_help(argv[i + 1])) {
			catalog_print_devices_native(stdout);
			return true;
		}
		if (!strcmp(argv[i], "--cpu") && is_help(argv[i + 1])) {
			cpu_model_print_help(stdout);
			return true;
		}
	}
	return false;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "shrike: %s\n", msg);
	return EXIT_USAGE;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[512];
	uint64_t start = now_ns();

	/* Under QEMU's name (a symlink), or `shrike qemu ...`: QEMU's command
	 * line, messages and statuses (cli/qemu.h). */
	if (!strncmp(basename_of(argv[0]), "qemu-system-", 12))
		return qemu_main(argc, argv, start);
	if (argc >= 2 && !strcmp(argv[1], "qemu"))
		return qemu_main(argc - 1, argv + 1, start);
	if (argc < 2)
		return usage_error("missing command (usage: shrike run --kernel PATH [options]; "
				   "see --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout), 0;
	if (!strcmp(argv[1], "--version"))
		return printf("shrike %s\n", SHRIKE_VERSION), 0;
	if (strcmp(argv[1], "run")) {
		snprintf(err, sizeof(err), "unknown command '%s' (try --help)", argv[1]);
		return usage_error(err);
	}
	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))
		return usage(stdout), 0;
	if (listing(argc, argv))
		return 0;
	config_defaults(&cfg);
	if (config_parse(&cfg, argc - 2, argv + 2, err, sizeof(err)))
		return usage_error(err);
	cfg.start_ns = start;
	log_set_guest_errors(cfg.log_guest_errors);
	/* A reader that goes away makes writes fail with EPIPE (counted by
	 * the serial backend) instead of killing shrike. */
	signal(SIGPIPE, SIG_IGN);
	vcpu_signals_init();
	return launch(&cfg);
}
