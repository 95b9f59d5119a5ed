#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/hex.h"
#include "core/sandbox.h"
#include "x86/cpumodel.h"

void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 1;
	cfg->memory = 256ull << 20;
	cfg->serial = SERIAL_STDIO;
	cfg->on_reboot = REBOOT_RESET;
	cfg->sync = SYNC_LAZY;
	cfg->emulate = true;
	cfg->irqchip = IRQCHIP_SPLIT;
	cfg->seccomp = sandbox_default_mode();
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 0:   shift = 0; break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default:  return -1;
	}
	if (*end && end[1] && !(end[1] == 'i' && end[2] == 'B' && !end[3]) &&
	    !(end[1] == 'B' && !end[2]))
		return -1;
	if (shift && v > (~0ull >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int parse_uuid(const char *s, uint8_t out[16])
{
	unsigned n = 0;

	if (!s || strlen(s) != 36)
		return -1;
	for (unsigned i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		if (hex_digit(s[i]) < 0 || hex_digit(s[i + 1]) < 0)
			return -1;
		out[n++] = (uint8_t)(hex_digit(s[i]) << 4 | hex_digit(s[i + 1]));
		i++;
	}
	return n == 16 ? 0 : -1;
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xffffffffu)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Splits "PATH[,ARGS]" in place. */
static void split_module(char *arg, struct module_arg *m)
{
	char *comma = strchr(arg, ',');

	m->path = arg;
	m->args = NULL;
	if (comma) {
		*comma = 0;
		m->args = comma + 1;
	}
}

/*
 * Guest command-line profiles for Linux.  "emulated": for KVM back-ends that
 * emulate kernel code (kvm_pvm): keeps the kernel away from instructions
 * that would cost an exit on every context switch, interrupt or kmalloc
 * (XSAVE family, SMAP's clac/stac, cmpxchg16b, popcnt, SSSE3 crypto,
 * rdtscp, invpcid, the fs/gs base paranoid entry, MDS's verw) and skips
 * the crypto self-tests, minutes of emulated RSA here.  Instructions that
 * nothing avoids (int3 for code patching, fwait) are completed by shrike.
 */
static const char *linux_profile(const char *name)
{
	if (!strcmp(name, "emulated"))
		return "noxsave mitigations=off nofsgsbase "
		       "clearcpuid=cx16,popcnt,smap,invpcid,ssse3,rdtscp cryptomgr.notests";
	if (!strcmp(name, "none"))
		return "";
	return NULL;
}

static int choose(const char *opt, const char *val, const char *const *names, int n, int *out,
		  char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		if (val && !strcmp(val, names[i])) {
			*out = i;
			return 0;
		}
	}
	err_set(err, errlen, "%s: unknown value '%s'", opt, val ? val : "");
	return -1;
}

static int parse_serial(struct vm_config *cfg, const char *val, char *err, size_t errlen)
{
	if (!strcmp(val, "stdio"))
		cfg->serial = SERIAL_STDIO;
	else if (!strcmp(val, "none"))
		cfg->serial = SERIAL_NONE;
	else if (!strncmp(val, "file:", 5) && val[5]) {
		cfg->serial = SERIAL_FILE;
		cfg->serial_path = val + 5;
	} else {
		err_set(err, errlen, "--serial: expected stdio, none or file:PATH, got '%s'", val);
		return -1;
	}
	return 0;
}

/* Options that take a value. */
/* --disk PATH[,ro][,serial=S]: a raw image as a virtio-blk disk.  The
 * file must be there and readable (writable unless ro) now: a typo is a
 * usage error, not a VM that fails later. */
static int parse_disk(struct vm_config *cfg, char *val, char *err, size_t errlen)
{
	struct disk_config *d;
	char *save = NULL, *item;

	if (cfg->ndisks == MAX_DISKS) {
		err_set(err, errlen, "--disk: at most %d disks", MAX_DISKS);
		return -1;
	}
	d = &cfg->disks[cfg->ndisks];
	memset(d, 0, sizeof(*d));
	d->path = strtok_r(val, ",", &save);
	if (!d->path || !*d->path) {
		err_set(err, errlen, "--disk: expected PATH[,ro][,serial=S]");
		return -1;
	}
	while ((item = strtok_r(NULL, ",", &save))) {
		if (!strcmp(item, "ro")) {
			d->readonly = true;
		} else if (!strncmp(item, "serial=", 7) && strlen(item + 7) <= 20) {
			memcpy(d->serial, item + 7, strlen(item + 7));
		} else {
			err_set(err, errlen, "--disk %s: unknown option '%s' (ro, serial=S of at most "
				"20 characters)", d->path, item);
			return -1;
		}
	}
	if (access(d->path, d->readonly ? R_OK : R_OK | W_OK)) {
		err_set(err, errlen, "--disk %s: %s", d->path, strerror(errno));
		return -1;
	}
	cfg->ndisks++;
	return 0;
}

/* "52:54:00:12:34:56" into mac; -1 if malformed or multicast. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || strlen(s) != 17 || (b[0] & 1))
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* --net tap:IFNAME[,mac=M] | tap-fd:N[,mac=M]: a virtio-net card on a tap
 * the administrator made (or a descriptor passed in, as libvirt does). */
int config_add_net(struct vm_config *cfg, char *val, char *err, size_t errlen)
{
	struct net_backend_config *n;
	char *save = NULL, *item, *backend, *end;

	if (cfg->nnets == MAX_NETS) {
		err_set(err, errlen, "--net: at most %d cards", MAX_NETS);
		return -1;
	}
	n = &cfg->nets[cfg->nnets];
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	snprintf(n->spec, sizeof(n->spec), "%s", val);
	backend = strtok_r(val, ",", &save);
	if (!backend) {
		err_set(err, errlen, "--net: expected tap:IFNAME[,mac=M] or tap-fd:N[,mac=M]");
		return -1;
	}
	if (!strncmp(backend, "tap:", 4) && backend[4] && strlen(backend + 4) < sizeof(n->ifname)) {
		memcpy(n->ifname, backend + 4, strlen(backend + 4));
	} else if (!strncmp(backend, "tap-fd:", 7) && backend[7]) {
		long fd = strtol(backend + 7, &end, 10);

		if (*end || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
			err_set(err, errlen, "--net %s: no open descriptor %s", n->spec, backend + 7);
			return -1;
		}
		n->fd = (int)fd;
	} else {
		err_set(err, errlen, "--net %s: expected tap:IFNAME (at most %zu characters) or "
			"tap-fd:N", n->spec, sizeof(n->ifname) - 1);
		return -1;
	}
	while ((item = strtok_r(NULL, ",", &save))) {
		if (!strncmp(item, "mac=", 4) && !parse_mac(item + 4, n->mac)) {
			n->mac_set = true;
		} else if (!strncmp(item, "id=", 3) && item[3] && strlen(item + 3) < sizeof(n->id)) {
			memcpy(n->id, item + 3, strlen(item + 3) + 1);
		} else {
			err_set(err, errlen, "--net %s: unknown or malformed option '%s' (mac=M, a "
				"unicast address like 52:54:00:12:34:56; id=NAME, up to %zu characters)",
				n->spec, item, sizeof(n->id) - 1);
			return -1;
		}
	}
	if (!n->id[0])
		snprintf(n->id, sizeof(n->id), "net%u", cfg->nnets);
	for (unsigned i = 0; i < cfg->nnets; i++)
		if (!strcmp(cfg->nets[i].id, n->id)) {
			err_set(err, errlen, "--net %s: a card with id %s already", n->spec, n->id);
			return -1;
		}
	cfg->nnets++;
	return 0;
}

/* --vsock cid=N[,uds=PATH] (changed in place; uds points into it).  The
 * guest's CID: 0-2 are the hypervisor's, the local and the host's, and
 * 2^32 - 1 is "any".  PATH_<port> must fit a Unix socket's address. */
int config_set_vsock(struct vm_config *cfg, char *val, char *err, size_t errlen)
{
	struct vsock_config *v = &cfg->vsock;
	char *save = NULL, *item, *end;
	bool cid_set = false;

	if (v->set) {
		err_set(err, errlen, "--vsock: one vsock device at most");
		return -1;
	}
	while ((item = strtok_r(val, ",", &save))) {
		val = NULL;
		if (!strncmp(item, "cid=", 4)) {
			unsigned long long cid = strtoull(item + 4, &end, 10);

			if (!item[4] || *end || item[4] == '-' || cid < 3 || cid >= 0xffffffffull) {
				err_set(err, errlen, "--vsock: cid=%s: the guest's CID is a number from 3 "
					"to 4294967294", item + 4);
				return -1;
			}
			v->cid = cid;
			cid_set = true;
		} else if (!strncmp(item, "uds=", 4) && item[4] && strlen(item + 4) <= VSOCK_UDS_MAX) {
			v->uds = item + 4;
		} else {
			err_set(err, errlen, "--vsock: unknown or malformed option '%s' (cid=N, "
				"uds=PATH of at most %d characters)", item, VSOCK_UDS_MAX);
			return -1;
		}
	}
	if (!cid_set) {
		err_set(err, errlen, "--vsock: cid=N is required");
		return -1;
	}
	v->set = true;
	return 0;
}

static int parse_valued(struct vm_config *cfg, const char *opt, char *val, char *err,
			size_t errlen)
{
	static const char *const reboot[] = { "reset", "exit" };
	static const char *const sync[] = { "lazy", "full" };
	static const char *const formats[] = { "auto", "flat" };
	static const char *const boots[] = { "auto", "protocol", "pvh" };
	static const char *const dexit[] = { "qemu", "distinct" };
	static const char *const ram[] = { "map", "read" };
	static const char *const onoff[] = { "off", "on" };
	static const char *const irqchips[] = { "kernel", "split" };
	int choice;

	if (!strcmp(opt, "--kernel")) {
		cfg->kernel_path = val;
	} else if (!strcmp(opt, "--kernel-format")) {
		if (choose(opt, val, formats, 2, &choice, err, errlen))
			return -1;
		cfg->kernel_format = (enum kernel_format)choice;
	} else if (!strcmp(opt, "--kernel-boot")) {
		if (choose(opt, val, boots, 3, &choice, err, errlen))
			return -1;
		cfg->kernel_boot = choice;
	} else if (!strcmp(opt, "--initrd")) {
		cfg->initrd_path = val;
	} else if (!strcmp(opt, "--cmdline")) {
		cfg->cmdline = val;
	} else if (!strcmp(opt, "--module")) {
		if (cfg->nmodules >= MAX_MODULES) {
			err_set(err, errlen, "--module: at most %d modules", MAX_MODULES);
			return -1;
		}
		split_module(val, &cfg->modules[cfg->nmodules++]);
	} else if (!strcmp(opt, "--cpus")) {
		if (parse_uint(val, &cfg->cpus) || cfg->cpus == 0) {
			err_set(err, errlen, "--cpus: expected a number from 1, got '%s'", val);
			return -1;
		}
		cfg->cpus_set = true;
	} else if (!strcmp(opt, "--memory")) {
		if (parse_size(val, &cfg->memory) || cfg->memory < (1ull << 20)) {
			err_set(err, errlen, "--memory: expected a size of at least 1M "
				"(suffix K, M, G or T), got '%s'", val);
			return -1;
		}
		if (cfg->memory & 0xfff) {
			err_set(err, errlen, "--memory: %s is not a multiple of 4 KiB", val);
			return -1;
		}
		cfg->memory_set = true;
	} else if (!strcmp(opt, "--debug-exit-status")) {
		if (choose(opt, val, dexit, 2, &choice, err, errlen))
			return -1;
		cfg->debug_exit_status = (enum debug_exit_status)choice;
	} else if (!strcmp(opt, "--serial")) {
		return parse_serial(cfg, val, err, errlen);
	} else if (!strcmp(opt, "--on-reboot")) {
		if (choose(opt, val, reboot, 2, &choice, err, errlen))
			return -1;
		cfg->on_reboot = (enum on_reboot)choice;
	} else if (!strcmp(opt, "--sync")) {
		if (choose(opt, val, sync, 2, &choice, err, errlen))
			return -1;
		cfg->sync = (enum sync_mode)choice;
	} else if (!strcmp(opt, "--trace-sync")) {
		cfg->trace_path = val;
	} else if (!strcmp(opt, "--linux-profile")) {
		cfg->linux_profile = linux_profile(val);
		if (!cfg->linux_profile) {
			err_set(err, errlen, "--linux-profile: unknown profile '%s' (known: emulated)",
				val);
			return -1;
		}
	} else if (!strcmp(opt, "--seccomp")) {
		static const char *const modes[] = { "off", "on", "log" };

		if (choose(opt, val, modes, 3, &choice, err, errlen))
			return -1;
		cfg->seccomp = choice;
	} else if (!strcmp(opt, "--cpu")) {
		struct cpu_model m;

		if (cpu_model_parse(val, &m, false, err, errlen))
			return -1;
		cfg->cpu_model = val;
	} else if (!strcmp(opt, "--console")) {
		if (strcmp(val, "virtio") && strcmp(val, "serial")) {
			err_set(err, errlen, "--console: expected serial or virtio, got '%s'", val);
			return -1;
		}
		cfg->console_virtio = !strcmp(val, "virtio");
	} else if (!strcmp(opt, "--net")) {
		if (config_add_net(cfg, val, err, errlen))
			return -1;
	} else if (!strcmp(opt, "--vsock")) {
		if (config_set_vsock(cfg, val, err, errlen))
			return -1;
	} else if (!strcmp(opt, "--disk")) {
		if (parse_disk(cfg, val, err, errlen))
			return -1;
	} else if (!strcmp(opt, "--device")) {
		/* isa-debug-exit is always there; pc-testdev on request. */
		if (!strcmp(val, "pc-testdev")) {
			cfg->pc_testdev = true;
		} else if (!strcmp(val, "pci-testdev")) {
			cfg->pci_testdev = true;
		} else if (!strcmp(val, "virtio-rng-pci") || !strcmp(val, "virtio-rng")) {
			cfg->rng = true;
		} else if (strcmp(val, "isa-debug-exit")) {
			err_set(err, errlen, "--device: unknown device '%s' (--device help lists them)",
				val);
			return -1;
		}
	} else if (!strcmp(opt, "--log")) {
		if (strcmp(val, "guest-errors") && strcmp(val, "none")) {
			err_set(err, errlen, "--log: expected guest-errors or none, got '%s'", val);
			return -1;
		}
		cfg->log_guest_errors = !strcmp(val, "guest-errors");
	} else if (!strcmp(opt, "--irqchip")) {
		if (choose(opt, val, irqchips, 2, &choice, err, errlen))
			return -1;
		cfg->irqchip = (enum irqchip_mode)choice;
	} else if (!strcmp(opt, "--emulate")) {
		if (choose(opt, val, onoff, 2, &choice, err, errlen))
			return -1;
		cfg->emulate = choice == 1;
	} else if (!strcmp(opt, "--qmp")) {
		cfg->qmp = val;
	} else if (!strcmp(opt, "--gdb")) {
		cfg->gdb = val;
	} else if (!strcmp(opt, "--snapshot-dir")) {
		if (cfg->nsnapshot_dirs == MAX_SNAPSHOT_DIRS) {
			err_set(err, errlen, "--snapshot-dir: at most %d", MAX_SNAPSHOT_DIRS);
			return -1;
		}
		cfg->snapshot_dir[cfg->nsnapshot_dirs++] = val;
	} else if (!strcmp(opt, "--incoming")) {
		cfg->incoming = val;
	} else if (!strcmp(opt, "--restore-ram")) {
		if (choose(opt, val, ram, 2, &choice, err, errlen))
			return -1;
		cfg->restore_read = choice == 1;
	} else if (!strcmp(opt, "--name")) {
		cfg->name = val;
	} else if (!strcmp(opt, "--uuid")) {
		if (parse_uuid(val, cfg->uuid)) {
			err_set(err, errlen, "--uuid: expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, got '%s'",
				val);
			return -1;
		}
		cfg->uuid_set = true;
	} else {
		return 1;
	}
	return 0;
}

static int parse_flag(struct vm_config *cfg, const char *opt)
{
	if (!strcmp(opt, "--rng")) {
		cfg->rng = true;
		return 0;
	}
	if (!strcmp(opt, "--trace-msrs"))
		cfg->trace_msrs = true;
	else if (!strcmp(opt, "--stats"))
		cfg->stats = true;
	else if (!strcmp(opt, "--no-vmport"))
		cfg->no_vmport = true;
	else if (!strcmp(opt, "--no-vapic"))
		cfg->no_vapic = true;
	else if (!strcmp(opt, "--paused"))
		cfg->start_paused = true;
	else if (!strcmp(opt, "--gdb-wait"))
		cfg->gdb_wait = true;
	else if (!strcmp(opt, "--gdb-allow-remote"))
		cfg->gdb_allow_remote = true;
	else if (!strcmp(opt, "--no-shutdown"))
		cfg->no_shutdown = true;
	else
		return 1;
	return 0;
}

int config_parse(struct vm_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		char *opt = argv[i], *val = NULL, *eq;
		int r;

		if (strncmp(opt, "--", 2)) {
			err_set(err, errlen, "unexpected argument '%s'", opt);
			return -1;
		}
		r = parse_flag(cfg, opt);
		if (r == 0)
			continue;
		eq = strchr(opt, '=');
		if (eq) {
			*eq = 0;
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		}
		if (!val) {
			err_set(err, errlen, "%s: missing value (or unknown option)", opt);
			return -1;
		}
		r = parse_valued(cfg, opt, val, err, errlen);
		if (r < 0)
			return -1;
		if (r > 0) {
			err_set(err, errlen, "unknown option '%s'", opt);
			return -1;
		}
	}
	if (!cfg->kernel_path && !cfg->incoming) {
		err_set(err, errlen, "--kernel is required (or --incoming file:PATH)");
		return -1;
	}
	if (cfg->kernel_path && cfg->incoming) {
		err_set(err, errlen, "--kernel and --incoming exclude each other: a snapshot holds "
			"its boot images");
		return -1;
	}
	if (cfg->gdb_wait && !cfg->gdb) {
		err_set(err, errlen, "--gdb-wait needs --gdb tcp:HOST:PORT or unix:PATH");
		return -1;
	}
	if (cfg->trace_msrs && !cfg->trace_path) {
		err_set(err, errlen, "--trace-msrs needs --trace-sync PATH");
		return -1;
	}
	return 0;
}
