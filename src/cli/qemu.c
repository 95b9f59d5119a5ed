#include "cli/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/catalog.h"
#include "cli/launch.h"
#include "base/log.h"
#include "core/vcpu.h"
#include "base/version.h"
#include "x86/cpumodel.h"

#define MAX_CHARDEVS 8
#define MAX_SUBOPTS 16
#define MAX_DRIVES MAX_DISKS

struct chardev_def {
	char id[64];
	enum serial_backend kind;
	char path[256];
};

/* What the options said, before it becomes a vm_config. */
struct qemu_cmdline {
	struct vm_config *cfg;
	char *err;
	size_t errlen;
	bool nographic, kernel, append, initrd, serial_given;
	const char *serial;                    /* the first -serial */
	struct chardev_def chardev[MAX_CHARDEVS];
	unsigned nchardevs;
	struct drive_def {                     /* -drive if=none, for -device virtio-blk-pci */
		char id[64];
		struct disk_config disk;
	} drive[MAX_DRIVES];
	unsigned ndrives;
	struct netdev_def {                    /* -netdev tap, for -device virtio-net-pci */
		char id[64];
		char spec[96];                 /* --net's form: tap:IFNAME or tap-fd:N */
	} netdev[MAX_NETS];
	unsigned nnetdevs;
	bool virtio_serial;                    /* -device virtio-serial-pci */
	const char *virtconsole;               /* -device virtconsole,chardev=: the chardev */
	char ignore[512];                      /* devices to ignore, comma-separated */
	int done_status;                       /* -version, -help: end with this */
	bool done;
};

/* ---- QEMU's key=value lists ---- */

struct subopt {
	char *key, *val;                       /* key NULL: the implied first value */
};

/* Splits "v,k=v,k=v" in place (QEMU's ",," escape is not needed here). */
static unsigned split_opts(char *s, struct subopt *o, unsigned max)
{
	unsigned n = 0;
	char *save = NULL, *item;

	for (item = strtok_r(s, ",", &save); item && n < max; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq) {
			*eq = 0;
			o[n++] = (struct subopt){ item, eq + 1 };
		} else {
			o[n++] = (struct subopt){ NULL, item };
		}
	}
	return n;
}

static int fail(struct qemu_cmdline *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct qemu_cmdline *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, q->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_uint(const char *s, unsigned long *out, int base)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoul(s, &end, base);
	return !errno && !*end;
}

/* ---- -m ---- */

/* QEMU's sizes: a plain number is MiB. */
static int parse_qemu_size(const char *v, uint64_t *out)
{
	char buf[64];

	if (strlen(v) >= sizeof(buf) - 2)
		return -1;
	if (*v && strspn(v, "0123456789") == strlen(v)) {
		snprintf(buf, sizeof(buf), "%sM", v);
		v = buf;
	}
	return parse_size(v, out);
}

static int opt_memory(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	char orig[256];
	unsigned n;

	snprintf(orig, sizeof(orig), "%s", arg);
	n = split_opts(arg, o, MAX_SUBOPTS);
	for (unsigned i = 0; i < n; i++) {
		uint64_t size;

		if (o[i].key && strcmp(o[i].key, "size")) {
			if (!strcmp(o[i].key, "slots") || !strcmp(o[i].key, "maxmem"))
				continue;  /* memory hotplug: nothing to plug into */
			return fail(q, "-m %s: Invalid parameter '%s'", orig, o[i].key);
		}
		if (parse_qemu_size(o[i].val, &size))
			return fail(q, "-m %s: Parameter 'size' expects a non-negative number below "
				    "2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, "
				    "tera-, peta-\nand exabytes, respectively.", orig);
		/* -m 0 is QEMU's default; sizes round up to 2 MiB as QEMU's do
		 * (a size within 2 MiB of 2^64 would wrap to 0: refused). */
		if (size > UINT64_MAX - (2ull << 20))
			return fail(q, "-m %s: Parameter 'size' expects a non-negative number below 2^64",
				    orig);
		if (size)
			q->cfg->memory = (size + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	}
	return 0;
}

/* ---- -smp ---- */

static int opt_smp(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	unsigned long cpus = 0, sockets = 0, dies = 1, cores = 0, threads = 0, maxcpus = 0, v;
	unsigned n = split_opts(arg, o, MAX_SUBOPTS);

	for (unsigned i = 0; i < n; i++) {
		const char *k = o[i].key ? o[i].key : "cpus";
		unsigned long *dst = !strcmp(k, "cpus") ? &cpus : !strcmp(k, "sockets") ? &sockets :
				     !strcmp(k, "dies") ? &dies : !strcmp(k, "cores") ? &cores :
				     !strcmp(k, "threads") ? &threads : !strcmp(k, "maxcpus") ? &maxcpus :
				     NULL;

		if (!dst)
			return fail(q, "Invalid parameter '%s'", k);
		if (!parse_uint(o[i].val, &v, 10) || v > 65535)
			return fail(q, "Parameter 'smp.%s' expects integer", k);
		*dst = v;
	}
	/* QEMU 7.2: zero means "pick it" (deprecated); missing values are
	 * filled in, preferring sockets. */
	if (!threads)
		threads = 1;
	if (!dies)
		dies = 1;          /* dies=0 divided by zero below (found by fuzz/cmdline) */
	if (!cores)
		cores = !cpus && !maxcpus ? 1 : 0;
	if (!maxcpus)
		maxcpus = cpus ? cpus : (sockets ? sockets : 1) * dies * (cores ? cores : 1) * threads;
	if (!cores)
		cores = sockets ? maxcpus / (sockets * dies * threads) : 1;
	if (!sockets)
		sockets = maxcpus / (dies * cores * threads);
	if (!cpus)
		cpus = maxcpus;
	if (sockets * dies * cores * threads != maxcpus)
		return fail(q, "Invalid CPU topology: product of the hierarchy must match maxcpus: "
			    "sockets (%lu) * dies (%lu) * cores (%lu) * threads (%lu) != maxcpus (%lu)",
			    sockets, dies, cores, threads, maxcpus);
	if (maxcpus < cpus)
		return fail(q, "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
			    "sockets (%lu) * dies (%lu) * cores (%lu) * threads (%lu) == maxcpus (%lu) "
			    "< smp_cpus (%lu)", sockets, dies, cores, threads, maxcpus, cpus);
	q->cfg->cpus = (unsigned)cpus;
	q->cfg->cpus_set = true;
	return 0;
}

/* ---- character devices and the serial port ---- */

static int chardev_backend(struct qemu_cmdline *q, const char *spec, const char *what,
			   enum serial_backend *kind, const char **path)
{
	if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
		*kind = SERIAL_STDIO;
	} else if (!strcmp(spec, "none") || !strcmp(spec, "null")) {
		*kind = SERIAL_NONE;
	} else if (!strncmp(spec, "file:", 5) && spec[5]) {
		*kind = SERIAL_FILE;
		*path = spec + 5;
	} else if (!strncmp(spec, "unix:", 5) && spec[5] && !strchr(spec, ',')) {
		*kind = SERIAL_SOCKET;
		*path = spec + 5;
	} else if (!strncmp(spec, "chardev:", 8)) {
		for (unsigned i = 0; i < q->nchardevs; i++) {
			if (!strcmp(q->chardev[i].id, spec + 8)) {
				*kind = q->chardev[i].kind;
				*path = q->chardev[i].path;
				return 0;
			}
		}
		return fail(q, "%s %s: could not connect serial device to character backend '%s'",
			    what, spec, spec);
	} else {
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec, ":,"), spec);
		return fail(q, "%s %s: '%s' is not a valid char driver\n" QEMU_PROGRAM
			    ": %s %s: could not connect serial device to character backend '%s'",
			    what, spec, name, what, spec, spec);
	}
	return 0;
}

static int opt_chardev(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	struct chardev_def *d;
	char orig[320];
	bool server = false;
	unsigned n;

	snprintf(orig, sizeof(orig), "%s", arg);
	n = split_opts(arg, o, MAX_SUBOPTS);
	if (q->nchardevs == MAX_CHARDEVS)
		return fail(q, "-chardev %s: too many character devices", orig);
	d = &q->chardev[q->nchardevs];
	memset(d, 0, sizeof(*d));
	if (!n || o[0].key)
		return fail(q, "-chardev %s: chardev: \"%s\" missing backend", orig, orig);
	if (is_help(o[0].val)) {
		catalog_print_chardevs(stdout);
		q->done = true;
		return 0;
	}
	if (!strcmp(o[0].val, "stdio"))
		d->kind = SERIAL_STDIO;
	else if (!strcmp(o[0].val, "null"))
		d->kind = SERIAL_NONE;
	else if (!strcmp(o[0].val, "file"))
		d->kind = SERIAL_FILE;
	else if (!strcmp(o[0].val, "socket"))
		d->kind = SERIAL_SOCKET;
	else
		return fail(q, "-chardev %s: '%s' is not a valid char driver name", orig, o[0].val);
	for (unsigned i = 1; i < n; i++) {
		const char *k = o[i].key ? o[i].key : "";

		if (!strcmp(k, "id"))
			snprintf(d->id, sizeof(d->id), "%s", o[i].val);
		else if (!strcmp(k, "path") && strlen(o[i].val) >= sizeof(d->path))
			return fail(q, "-chardev %s: path too long (at most %zu bytes)", orig,
				    sizeof(d->path) - 1);
		else if (!strcmp(k, "path"))
			snprintf(d->path, sizeof(d->path), "%s", o[i].val);
		else if (!strcmp(k, "server") && !on_off(o[i].val, &server))
			return fail(q, "-chardev %s: Parameter 'server' expects 'on' or 'off'", orig);
		else if (strcmp(k, "server") && strcmp(k, "wait") && strcmp(k, "mux") &&
			 strcmp(k, "signal") && strcmp(k, "logfile") && strcmp(k, "append"))
			return fail(q, "-chardev %s: Invalid parameter '%s'", orig, k);
	}
	if (!d->id[0])
		return fail(q, "-chardev %s: Parameter 'id' is missing", orig);
	if ((d->kind == SERIAL_FILE || d->kind == SERIAL_SOCKET) && !d->path[0])
		return fail(q, "-chardev %s: chardev: %s: no filename given", orig, o[0].val);
	if (server)
		return fail(q, "-chardev %s: shrike connects to a socket (server=off); it does not "
			    "listen for a serial client", orig);
	q->nchardevs++;
	return 0;
}

/* ---- -drive and the virtio devices ---- */

static int add_disk(struct qemu_cmdline *q, const char *what, const struct disk_config *d)
{
	if (q->cfg->ndisks == MAX_DISKS)
		return fail(q, "%s: shrike takes at most %d disks", what, MAX_DISKS);
	q->cfg->disks[q->cfg->ndisks++] = *d;
	return 0;
}

/* Options of -drive that only tune QEMU's block layer. */
static bool drive_tuning(const char *k)
{
	static const char *const keys[] = { "cache", "aio", "discard", "detect-zeroes", "media",
					    "werror", "rerror", "cache.direct", "cache.no-flush" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static int drive_option(struct qemu_cmdline *q, const char *orig, const struct subopt *o,
			struct disk_config *d, const char **iface, const char **id)
{
	bool ro;

	if (!o->key)
		return fail(q, "-drive %s: Invalid parameter '%s'", orig, o->val);
	if (!strcmp(o->key, "file")) {
		d->path = o->val;
	} else if (!strcmp(o->key, "if")) {
		*iface = o->val;
	} else if (!strcmp(o->key, "id")) {
		*id = o->val;
	} else if (!strcmp(o->key, "format")) {
		if (strcmp(o->val, "raw"))
			return fail(q, "-drive %s: shrike reads raw images only (format=raw), not '%s'",
				    orig, o->val);
	} else if (!strcmp(o->key, "readonly") || !strcmp(o->key, "read-only")) {
		if (!on_off(o->val, &ro))
			return fail(q, "-drive %s: Parameter 'read-only' expects 'on' or 'off'", orig);
		d->readonly = ro;
	} else if (!strcmp(o->key, "serial")) {
		if (strlen(o->val) > 20)
			return fail(q, "-drive %s: serial is longer than 20 characters", orig);
		memcpy(d->serial, o->val, strlen(o->val));
	} else if (!drive_tuning(o->key)) {
		return fail(q, "-drive %s: Block format 'raw' does not support the option '%s'", orig,
			    o->key);
	}
	return 0;
}

static int opt_drive(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	struct disk_config d = { 0 };
	const char *iface = "ide", *id = NULL;
	char orig[320];
	unsigned n;

	snprintf(orig, sizeof(orig), "%s", arg);
	n = split_opts(arg, o, MAX_SUBOPTS);
	for (unsigned i = 0; i < n; i++)
		if (drive_option(q, orig, &o[i], &d, &iface, &id))
			return -1;
	if (strcmp(iface, "virtio") && strcmp(iface, "none"))
		return fail(q, "-drive %s: shrike's disks are virtio: if=virtio, or if=none with "
			    "-device virtio-blk-pci,drive=ID (not if=%s)", orig, iface);
	if (!d.path)
		return fail(q, "-drive %s: shrike has no empty drives (file= is required)", orig);
	if (access(d.path, d.readonly ? R_OK : R_OK | W_OK))
		return fail(q, "-drive %s: Could not open '%s': %s", orig, d.path, strerror(errno));
	if (!strcmp(iface, "virtio"))
		return add_disk(q, "-drive", &d);
	if (!id)
		return fail(q, "-drive %s: if=none needs an id= for -device to name", orig);
	if (q->ndrives == MAX_DRIVES)
		return fail(q, "-drive %s: too many drives", orig);
	snprintf(q->drive[q->ndrives].id, sizeof(q->drive[0].id), "%s", id);
	q->drive[q->ndrives++].disk = d;
	return 0;
}

/* virtio-serial-pci with one virtconsole port: shrike's virtio-console, on
 * the console's backend (one port, no multiport). */
static int virtio_serial_device(struct qemu_cmdline *q, const char *name, const char *orig,
				struct subopt *o, unsigned n)
{
	const char *chardev = NULL;

	for (unsigned i = 1; i < n; i++) {
		if (o[i].key && !strcmp(o[i].key, "chardev") && !strcmp(name, "virtconsole"))
			chardev = o[i].val;
		else if (!(o[i].key && (!strcmp(o[i].key, "id") || !strcmp(o[i].key, "name"))))
			return fail(q, "-device %s: Property '%s.%s' not found", orig, name,
				    o[i].key ? o[i].key : o[i].val);
	}
	if (!strcmp(name, "virtio-serial-pci")) {
		q->virtio_serial = true;
		return 0;
	}
	if (!q->virtio_serial)
		return fail(q, "-device %s: No 'virtio-serial-bus' bus found for device 'virtconsole'",
			    orig);
	if (q->virtconsole)
		return fail(q, "-device %s: shrike's virtio-serial has one port", orig);
	if (!chardev)
		return fail(q, "-device %s: shrike's virtconsole needs chardev=", orig);
	q->virtconsole = chardev;
	q->cfg->console_virtio = true;
	return 0;
}

static int virtio_blk_device(struct qemu_cmdline *q, const char *orig, struct subopt *o,
			     unsigned n)
{
	const char *drive = NULL, *serial = NULL;
	struct disk_config d;

	for (unsigned i = 1; i < n; i++) {
		if (o[i].key && !strcmp(o[i].key, "drive"))
			drive = o[i].val;
		else if (o[i].key && !strcmp(o[i].key, "serial"))
			serial = o[i].val;
		else
			return fail(q, "-device %s: Property 'virtio-blk-pci.%s' not found", orig,
				    o[i].key ? o[i].key : o[i].val);
	}
	if (!drive)
		return fail(q, "-device %s: drive property not set", orig);
	for (unsigned i = 0; i < q->ndrives; i++) {
		if (strcmp(q->drive[i].id, drive))
			continue;
		d = q->drive[i].disk;
		if (serial && strlen(serial) <= 20) {
			memset(d.serial, 0, sizeof(d.serial));
			memcpy(d.serial, serial, strlen(serial));
		}
		return add_disk(q, "-device", &d);
	}
	return fail(q, "-device %s: Property 'virtio-blk-pci.drive' can't find value '%s'", orig,
		    drive);
}

/* ---- -netdev, -nic and virtio-net-pci ---- */

/* One card in --net's form (spec, then ",mac=M" if given). */
/* One card: spec (tap:NAME or tap-fd:N), its MAC if given, and the
 * netdev's ID (QMP's set_link names the card by it). */
static int add_net(struct qemu_cmdline *q, const char *what, const char *spec, const char *mac,
		   const char *id)
{
	char val[200];

	snprintf(val, sizeof(val), "%s%s%s%s%s", spec, mac ? ",mac=" : "", mac ? mac : "",
		 id ? ",id=" : "", id ? id : "");
	if (config_add_net(q->cfg, val, q->err, q->errlen)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", q->err);
		return fail(q, "%s: %s", what, why);
	}
	return 0;
}

/* The tap options of -netdev and -nic: ifname= or fd=, and QEMU's own
 * that must say what shrike does (no scripts, no vhost-net).  Fills spec;
 * returns 1 if the key is not one of them. */
static int tap_option(struct qemu_cmdline *q, const char *orig, const struct subopt *o,
		      char *spec, size_t len)
{
	if (!strcmp(o->key, "ifname")) {
		snprintf(spec, len, "tap:%s", o->val);
	} else if (!strcmp(o->key, "fd")) {
		snprintf(spec, len, "tap-fd:%s", o->val);
	} else if (!strcmp(o->key, "script") || !strcmp(o->key, "downscript")) {
		if (strcmp(o->val, "no"))
			return fail(q, "%s: shrike runs no network scripts: %s=no, with a tap the "
				    "administrator set up", orig, o->key);
	} else if (!strcmp(o->key, "vhost")) {
		if (strcmp(o->val, "off"))
			return fail(q, "%s: shrike has no vhost-net (its own thread moves the "
				    "frames): vhost=off", orig);
	} else if (!strcmp(o->key, "vnet_hdr")) {
		if (strcmp(o->val, "on"))
			return fail(q, "%s: shrike's taps carry the virtio-net header: vnet_hdr=on",
				    orig);
	} else {
		return 1;
	}
	return 0;
}

/* "OPTION ARG" into orig, ARG split into o: its number of items, or 0
 * (the error said) when the backend is not a tap. */
static unsigned split_tap(struct qemu_cmdline *q, const char *option, const char *form, char *arg,
			  struct subopt *o, char *orig, size_t len)
{
	unsigned n;

	snprintf(orig, len, "%s %s", option, arg);
	n = split_opts(arg, o, MAX_SUBOPTS);
	if (!n || o[0].key || strcmp(o[0].val, "tap")) {
		fail(q, "%s: shrike's networks are taps: %s", orig, form);
		return 0;
	}
	return n;
}

static int opt_netdev(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	char orig[320], spec[96] = "";
	const char *id = NULL;
	unsigned n;

	n = split_tap(q, "-netdev", "-netdev tap,id=ID,ifname=NAME (or fd=N)", arg, o, orig,
		      sizeof(orig));
	if (!n)
		return -1;
	for (unsigned i = 1; i < n; i++) {
		int r;

		if (o[i].key && !strcmp(o[i].key, "id")) {
			id = o[i].val;
			continue;
		}
		r = o[i].key ? tap_option(q, orig, &o[i], spec, sizeof(spec)) : 1;
		if (r < 0)
			return -1;
		if (r)
			return fail(q, "%s: Invalid parameter '%s'", orig, o[i].key ? o[i].key : o[i].val);
	}
	if (!id)
		return fail(q, "%s: Parameter 'id' is missing", orig);
	if (!spec[0])
		return fail(q, "%s: shrike opens a tap the administrator made: ifname=NAME or fd=N",
			    orig);
	if (q->nnetdevs == MAX_NETS)
		return fail(q, "%s: shrike takes at most %d network cards", orig, MAX_NETS);
	snprintf(q->netdev[q->nnetdevs].id, sizeof(q->netdev[0].id), "%s", id);
	snprintf(q->netdev[q->nnetdevs++].spec, sizeof(q->netdev[0].spec), "%s", spec);
	return 0;
}

/* -nic tap,ifname=NAME[,model=virtio-net-pci][,mac=M]: -netdev and -device
 * in one. */
static int opt_nic(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	char orig[320], spec[96] = "";
	const char *mac = NULL;
	unsigned n;

	n = split_tap(q, "-nic", "-nic tap,ifname=NAME (or fd=N)", arg, o, orig, sizeof(orig));
	if (!n)
		return -1;
	for (unsigned i = 1; i < n; i++) {
		int r;

		if (!o[i].key)
			return fail(q, "%s: Invalid parameter '%s'", orig, o[i].val);
		if (!strcmp(o[i].key, "mac")) {
			mac = o[i].val;
			continue;
		}
		if (!strcmp(o[i].key, "id"))
			continue;
		if (!strcmp(o[i].key, "model")) {
			if (strcmp(o[i].val, "virtio-net-pci") && strcmp(o[i].val, "virtio"))
				return fail(q, "%s: shrike's network card is virtio-net-pci, not '%s'",
					    orig, o[i].val);
			continue;
		}
		r = tap_option(q, orig, &o[i], spec, sizeof(spec));
		if (r < 0)
			return -1;
		if (r)
			return fail(q, "%s: Invalid parameter '%s'", orig, o[i].key);
	}
	if (!spec[0])
		return fail(q, "%s: shrike opens a tap the administrator made: ifname=NAME or fd=N",
			    orig);
	return add_net(q, orig, spec, mac, NULL);
}

static int virtio_net_device(struct qemu_cmdline *q, const char *orig, struct subopt *o,
			     unsigned n)
{
	const char *netdev = NULL, *mac = NULL;

	for (unsigned i = 1; i < n; i++) {
		if (o[i].key && !strcmp(o[i].key, "netdev"))
			netdev = o[i].val;
		else if (o[i].key && !strcmp(o[i].key, "mac"))
			mac = o[i].val;
		else if (!(o[i].key && !strcmp(o[i].key, "id")))
			return fail(q, "-device %s: Property 'virtio-net-pci.%s' not found", orig,
				    o[i].key ? o[i].key : o[i].val);
	}
	if (!netdev)
		return fail(q, "-device %s: shrike's virtio-net-pci needs netdev=ID (a -netdev tap)",
			    orig);
	for (unsigned i = 0; i < q->nnetdevs; i++)
		if (!strcmp(q->netdev[i].id, netdev)) {
			char what[340];

			snprintf(what, sizeof(what), "-device %s", orig);
			return add_net(q, what, q->netdev[i].spec, mac, q->netdev[i].id);
		}
	return fail(q, "-device %s: Property 'virtio-net-pci.netdev' can't find value '%s'", orig,
		    netdev);
}

/* -device vhost-vsock-pci,guest-cid=N: the kernel's vhost-vsock, with
 * QEMU's checks and words. */
static int vhost_vsock_device(struct qemu_cmdline *q, const char *orig, struct subopt *o,
			      unsigned n)
{
	unsigned long cid = 0;
	char val[40];

	for (unsigned i = 1; i < n; i++) {
		if (o[i].key && !strcmp(o[i].key, "guest-cid")) {
			if (!parse_uint(o[i].val, &cid, 0))
				return fail(q, "-device %s: Parameter 'guest-cid' expects uint64", orig);
		} else if (!(o[i].key && !strcmp(o[i].key, "id"))) {
			return fail(q, "-device %s: Property 'vhost-vsock-pci.%s' not found", orig,
				    o[i].key ? o[i].key : o[i].val);
		}
	}
	if (cid <= 2)
		return fail(q, "-device %s: guest-cid property must be greater than 2", orig);
	if (cid > UINT32_MAX)
		return fail(q, "-device %s: guest-cid property must be a 32-bit number", orig);
	if (q->cfg->vsock.set)
		return fail(q, "-device %s: shrike has one vsock device", orig);
	snprintf(val, sizeof(val), "cid=%lu", cid);
	if (config_set_vsock(q->cfg, val, q->err, q->errlen)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", q->err);
		return fail(q, "-device %s: %s", orig, why);
	}
	return 0;
}

/* ---- -device ---- */

static bool ignored_device(const struct qemu_cmdline *q, const char *name)
{
	char list[1024], *save = NULL, *item;
	const char *env = getenv("SHRIKE_IGNORE_DEVICES");

	snprintf(list, sizeof(list), "%s,%s", q->ignore, env ? env : "");
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (!strcmp(item, name))
			return true;
	return false;
}

static int debug_exit_props(struct qemu_cmdline *q, const char *orig, struct subopt *o,
			    unsigned n)
{
	unsigned long base = 0x501, size = 2, v;

	for (unsigned i = 1; i < n; i++) {
		const char *k = o[i].key ? o[i].key : o[i].val;

		if ((strcmp(k, "iobase") && strcmp(k, "iosize")) || !o[i].key)
			return fail(q, "-device %s: Property 'isa-debug-exit.%s' not found", orig, k);
		if (!parse_uint(o[i].val, &v, 0) || v > 0xffff || (!strcmp(k, "iosize") && (!v || v > 4)))
			return fail(q, "-device %s: Property 'isa-debug-exit.%s' doesn't take value '%s'",
				    orig, k, o[i].val);
		if (!strcmp(k, "iobase"))
			base = v;
		else
			size = v;
	}
	q->cfg->no_debug_exit = false;
	q->cfg->debug_exit_port = (uint16_t)base;
	q->cfg->debug_exit_size = (uint16_t)size;
	return 0;
}

/* -device help, -device NAME,help: QEMU's listings; then exit 0. */
static bool device_help(struct qemu_cmdline *q, const struct device_entry *d, struct subopt *o,
			unsigned n)
{
	if (is_help(o[0].val)) {
		catalog_print_devices(stdout);
		return q->done = true;
	}
	for (unsigned i = 1; i < n; i++) {
		if (!o[i].key && is_help(o[i].val)) {
			if (d)
				catalog_print_device_props(stdout, d);
			return q->done = d != NULL;
		}
	}
	return false;
}

static int opt_device(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	const struct device_entry *d;
	char orig[320];
	unsigned n;

	snprintf(orig, sizeof(orig), "%s", arg);
	n = split_opts(arg, o, MAX_SUBOPTS);
	if (!n || o[0].key)
		return fail(q, "-device %s: Parameter 'driver' is missing", orig);
	d = catalog_device(o[0].val);
	if (device_help(q, d, o, n))
		return 0;
	for (unsigned i = 1; !d && i < n; i++)
		if (!o[i].key && is_help(o[i].val))
			return fail(q, "-device %s: Device '%s' not found", orig, o[0].val);
	if (ignored_device(q, o[0].val)) {
		log_warn("-device %s: ignored (SHRIKE_IGNORE_DEVICES / -ignore-device)", orig);
		return 0;
	}
	if (!d)
		return fail(q, "-device %s: '%s' is not a valid device model name", orig, o[0].val);
	if (!strcmp(d->name, "isa-debug-exit"))
		return debug_exit_props(q, orig, o, n);
	if (!strcmp(d->name, "virtio-blk-pci"))
		return virtio_blk_device(q, orig, o, n);
	if (!strcmp(d->name, "virtio-net-pci"))
		return virtio_net_device(q, orig, o, n);
	if (!strcmp(d->name, "vhost-vsock-pci"))
		return vhost_vsock_device(q, orig, o, n);
	if (!strcmp(d->name, "virtio-serial-pci") || !strcmp(d->name, "virtconsole"))
		return virtio_serial_device(q, d->name, orig, o, n);
	if (n > 1)
		return fail(q, "-device %s: Property '%s.%s' not found", orig, d->name,
			    o[1].key ? o[1].key : o[1].val);
	if (!strcmp(d->name, "pci-testdev")) {
		if (q->cfg->pci_testdev)
			return fail(q, "-device %s: shrike has one %s", orig, d->name);
		q->cfg->pci_testdev = true;
		return 0;
	}
	if (!strcmp(d->name, "virtio-rng-pci")) {
		if (q->cfg->rng)
			return fail(q, "-device %s: shrike has one %s", orig, d->name);
		q->cfg->rng = true;
		return 0;
	}
	if (q->cfg->pc_testdev)
		return fail(q, "-device %s: shrike has one %s", orig, d->name);
	q->cfg->pc_testdev = true;
	return 0;
}

/* ---- -machine, -accel ---- */

/* Machine properties that only tune QEMU (or change nothing shrike has). */
static const char *const machine_tuning[] = {
	"usb", "dump-guest-core", "mem-merge", "smm", "hpet", "pit", "pic", "rtc", "sata",
	"graphics", "acpi", "nvdimm", "hmat", "suppress-vmdesc", "x-option-roms", "isa-serial",
	"auto-enable-numa-with-memhp", "auto-enable-numa-with-memdev", "smbus", "max-ram-below-4g",
	"default-bus-bypass-iommu", "sgx-epc", "i8042", "pcie", "x-oem-id", "x-oem-table-id",
	"kvm-type",
};

static bool is_machine_tuning(const char *k)
{
	for (size_t i = 0; i < sizeof(machine_tuning) / sizeof(machine_tuning[0]); i++)
		if (!strcmp(k, machine_tuning[i]))
			return true;
	return false;
}

static bool known_machine(const char *t)
{
	return !strcmp(t, "pc") || !strncmp(t, "pc-i440fx-", 10) || !strcmp(t, "q35") ||
	       !strncmp(t, "pc-q35-", 7) || !strcmp(t, "microvm");
}

static int accel(struct qemu_cmdline *q, const char *what, const char *a)
{
	char list[128], *save = NULL, *item;

	if (is_help(a)) {
		catalog_print_accels(stdout);
		q->done = true;
		return 0;
	}
	/* "kvm:tcg" means the first that works: KVM here. */
	snprintf(list, sizeof(list), "%s", a);
	for (item = strtok_r(list, ":", &save); item; item = strtok_r(NULL, ":", &save))
		if (!strcmp(item, "kvm"))
			return 0;
	return fail(q, "%s %s: shrike runs on KVM only", what, a);
}

static int opt_machine(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	unsigned n = split_opts(arg, o, MAX_SUBOPTS);
	const char *type = "pc";
	bool vmport;

	for (unsigned i = 0; i < n; i++) {
		const char *k = o[i].key ? o[i].key : "type";

		if (!strcmp(k, "type")) {
			type = o[i].val;
			if (is_help(type)) {
				catalog_print_machines(stdout);
				q->done = true;
				return 0;
			}
			if (!known_machine(type))
				return fail(q, "unsupported machine type\nUse -machine help to list "
					    "supported machines");
		} else if (!strcmp(k, "accel")) {
			if (accel(q, "-machine accel=", o[i].val))
				return -1;
		} else if (!strcmp(k, "kernel-irqchip") || !strcmp(k, "kernel_irqchip")) {
			if (!strcmp(o[i].val, "split"))
				q->cfg->irqchip = IRQCHIP_SPLIT;
			else if (!strcmp(o[i].val, "on") || !strcmp(o[i].val, "true"))
				q->cfg->irqchip = IRQCHIP_KERNEL;
			else
				return fail(q, "-machine kernel-irqchip=%s: shrike needs the LAPIC in KVM "
					    "(on or split)", o[i].val);
		} else if (!strcmp(k, "vmport")) {
			if (!strcmp(o[i].val, "auto"))
				continue;
			if (!on_off(o[i].val, &vmport))
				return fail(q, "Parameter 'vmport' expects 'on', 'off', or 'auto'");
			q->cfg->no_vmport = !vmport;
		} else if (!is_machine_tuning(k)) {
			return fail(q, "Property '%s-machine.%s' not found",
				    !strcmp(type, "pc") ? "pc-i440fx-7.2" : type, k);
		}
	}
	/* microvm has no VMware backdoor. */
	if (!strcmp(type, "microvm"))
		q->cfg->no_vmport = true;
	return 0;
}

/* ---- -rtc ---- */

static bool parse_datetime(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return false;
	}
	*out = timegm(&tm);
	return true;
}

static int opt_rtc(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	unsigned n = split_opts(arg, o, MAX_SUBOPTS);
	time_t now = time(NULL), base;

	for (unsigned i = 0; i < n; i++) {
		const char *k = o[i].key ? o[i].key : "base";

		if (!strcmp(k, "base")) {
			struct tm local;

			if (!strcmp(o[i].val, "utc")) {
				q->cfg->rtc_offset_sec = 0;
			} else if (!strcmp(o[i].val, "localtime")) {
				localtime_r(&now, &local);
				q->cfg->rtc_offset_sec = local.tm_gmtoff;
			} else if (parse_datetime(o[i].val, &base)) {
				q->cfg->rtc_offset_sec = (int64_t)base - (int64_t)now;
			} else {
				return fail(q, "invalid datetime format\nvalid formats: "
					    "'2006-06-17T16:01:21' or '2006-06-17'");
			}
		} else if (strcmp(k, "clock") && strcmp(k, "driftfix")) {
			return fail(q, "Invalid parameter '%s'", k);
		}
	}
	return 0;
}

/* ---- the rest ---- */

static void usage(void)
{
	printf("usage: " QEMU_PROGRAM " [options]   (shrike %s, QEMU's command line for a direct "
	       "kernel boot)\n\n"
	       "-kernel bzImage|vmlinux|multiboot-ELF  -initrd file  -append cmdline\n"
	       "-smp [cpus=]n[,maxcpus=,sockets=,dies=,cores=,threads=]\n"
	       "-m [size=]megs[,slots=,maxmem=]\n"
	       "-cpu host|max|qemu64|kvm64|qemu32|kvm32[,+feat|-feat|feat=on|off|vendor=]\n"
	       "-machine|-M pc|q35|microvm[,accel=kvm,kernel-irqchip=on|split,vmport=...]\n"
	       "-accel kvm  -enable-kvm  -nodefaults  -no-user-config  -nographic  -display none\n"
	       "-vga none  -serial stdio|none|null|mon:stdio|file:PATH|unix:PATH|chardev:ID\n"
	       "-chardev stdio|null|file|socket,id=ID[,path=PATH]  -monitor none\n"
	       "-device isa-debug-exit[,iobase=,iosize=]  -device pc-testdev  -ignore-device NAME\n"
	       "-drive file=IMG,if=virtio|none[,format=raw,readonly=on,serial=S,id=ID]\n"
	       "-device virtio-blk-pci,drive=ID[,serial=S]  -device virtio-rng-pci\n"
	       "-netdev tap,id=ID,ifname=NAME|fd=N[,script=no,downscript=no,vhost=off]\n"
	       "-device virtio-net-pci,netdev=ID[,mac=M]  -nic tap,ifname=NAME|fd=N[,mac=M]\n"
	       "-device vhost-vsock-pci,guest-cid=N\n"
	       "-device|-cpu|-machine|-accel|-chardev help   (or ?): what shrike offers\n"
	       "-no-reboot  -no-shutdown  -S  -s  -gdb tcp::PORT|unix:PATH  -qmp unix:PATH,server=on\n"
	       "-name NAME  -uuid UUID  -rtc base=utc|localtime|DATE  -global ...  -d guest_errors\n"
	       "-pidfile FILE  -version  -help\n", SHRIKE_VERSION);
}

static int opt_serial(struct qemu_cmdline *q, char *arg)
{
	if (q->serial_given)
		return fail(q, "-serial %s: shrike has one serial port (COM1)", arg);
	q->serial_given = true;
	q->serial = arg;
	return 0;
}

static int opt_name(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	unsigned n = split_opts(arg, o, MAX_SUBOPTS);

	for (unsigned i = 0; i < n; i++)
		if (!o[i].key || !strcmp(o[i].key, "guest"))
			q->cfg->name = o[i].val;
	return 0;
}

static int opt_d(struct qemu_cmdline *q, char *arg)
{
	struct subopt o[MAX_SUBOPTS];
	unsigned n = split_opts(arg, o, MAX_SUBOPTS);

	for (unsigned i = 0; i < n; i++) {
		if (!o[i].key && !strcmp(o[i].val, "guest_errors"))
			q->cfg->log_guest_errors = true;
		else
			log_warn("-d %s: shrike logs guest_errors only, ignored", o[i].val);
	}
	return 0;
}

static int opt_monitor(struct qemu_cmdline *q, char *arg)
{
	if (!strcmp(arg, "none"))
		return 0;
	return fail(q, "-monitor %s: shrike has no human monitor; use -qmp", arg);
}

static int opt_qmp(struct qemu_cmdline *q, char *arg)
{
	if (strncmp(arg, "unix:", 5))
		return fail(q, "-qmp %s: shrike's QMP listens on a Unix socket (unix:PATH,server=on)",
			    arg);
	q->cfg->qmp = arg;
	return 0;
}

static int opt_gdb(struct qemu_cmdline *q, char *arg)
{
	q->cfg->gdb = arg;
	return 0;
}

static int opt_cpu(struct qemu_cmdline *q, char *arg)
{
	struct cpu_model m;

	if (is_help(arg)) {
		cpu_model_print_help(stdout);
		q->done = true;
		return 0;
	}
	if (cpu_model_parse(arg, &m, true, q->err, q->errlen))
		return -1;
	q->cfg->cpu_model = arg;
	return 0;
}

static int opt_uuid(struct qemu_cmdline *q, char *arg)
{
	if (parse_uuid(arg, q->cfg->uuid))
		return fail(q, "Fail to parse UUID string.");
	q->cfg->uuid_set = true;
	return 0;
}

static int opt_ignored(struct qemu_cmdline *q, char *arg)
{
	(void)q, (void)arg;
	return 0;
}

static int opt_warned(struct qemu_cmdline *q, char *arg, const char *name)
{
	(void)q;
	log_warn("%s %s: only tunes QEMU, ignored", name, arg);
	return 0;
}

static int opt_display(struct qemu_cmdline *q, char *arg)
{
	if (strcmp(arg, "none"))
		log_warn("-display %s: shrike has no display, ignored", arg);
	(void)q;
	return 0;
}

static int opt_vga(struct qemu_cmdline *q, char *arg)
{
	if (strcmp(arg, "none"))
		log_warn("-vga %s: shrike has no display, ignored", arg);
	(void)q;
	return 0;
}

enum { A_NONE, A_ARG };

struct qopt {
	const char *name;
	int has_arg;
	int (*fn)(struct qemu_cmdline *q, char *arg);
};

static int set_kernel(struct qemu_cmdline *q, char *a) { q->cfg->kernel_path = a; q->kernel = true; return 0; }
static int set_initrd(struct qemu_cmdline *q, char *a) { q->cfg->initrd_path = a; q->initrd = true; return 0; }
static int set_append(struct qemu_cmdline *q, char *a) { q->cfg->cmdline = a; q->append = true; return 0; }
static int set_nographic(struct qemu_cmdline *q, char *a) { (void)a; q->nographic = true; return 0; }
static int set_noreboot(struct qemu_cmdline *q, char *a) { (void)a; q->cfg->on_reboot = REBOOT_EXIT; return 0; }
static int set_noshutdown(struct qemu_cmdline *q, char *a) { (void)a; q->cfg->no_shutdown = true; return 0; }
static int set_paused(struct qemu_cmdline *q, char *a) { (void)a; q->cfg->start_paused = true; return 0; }
static int set_gdb_default(struct qemu_cmdline *q, char *a) { (void)a; q->cfg->gdb = "tcp::1234"; return 0; }
static int set_pidfile(struct qemu_cmdline *q, char *a) { q->cfg->pidfile = a; return 0; }
static int set_accel(struct qemu_cmdline *q, char *a)
{
	char *save = NULL, *name = strtok_r(a, ",", &save);

	return accel(q, "-accel", name ? name : "");
}
static int set_ignore(struct qemu_cmdline *q, char *a)
{
	size_t l = strlen(q->ignore);

	snprintf(q->ignore + l, sizeof(q->ignore) - l, "%s%s", l ? "," : "", a);
	return 0;
}
static int set_global(struct qemu_cmdline *q, char *a) { return opt_warned(q, a, "-global"); }
static int set_logfile(struct qemu_cmdline *q, char *a) { return opt_warned(q, a, "-D"); }
static int set_boot(struct qemu_cmdline *q, char *a) { return opt_warned(q, a, "-boot"); }
static int set_version(struct qemu_cmdline *q, char *a)
{
	(void)a;
	printf("QEMU emulator version 7.2.0 (shrike %s: a different VMM, QEMU's command line)\n",
	       SHRIKE_VERSION);
	q->done = true;
	return 0;
}
static int set_help(struct qemu_cmdline *q, char *a)
{
	(void)a;
	usage();
	q->done = true;
	return 0;
}

static const struct qopt options[] = {
	{ "kernel", A_ARG, set_kernel },     { "initrd", A_ARG, set_initrd },
	{ "append", A_ARG, set_append },     { "smp", A_ARG, opt_smp },
	{ "m", A_ARG, opt_memory },          { "serial", A_ARG, opt_serial },
	{ "chardev", A_ARG, opt_chardev },   { "nographic", A_NONE, set_nographic },
	{ "display", A_ARG, opt_display },   { "vga", A_ARG, opt_vga },
	{ "nodefaults", A_NONE, opt_ignored }, { "no-user-config", A_NONE, opt_ignored },
	{ "no-reboot", A_NONE, set_noreboot }, { "no-shutdown", A_NONE, set_noshutdown },
	{ "machine", A_ARG, opt_machine },   { "M", A_ARG, opt_machine },
	{ "accel", A_ARG, set_accel },       { "enable-kvm", A_NONE, opt_ignored },
	{ "cpu", A_ARG, opt_cpu },           { "device", A_ARG, opt_device },
	{ "drive", A_ARG, opt_drive },       { "netdev", A_ARG, opt_netdev },
	{ "nic", A_ARG, opt_nic },
	{ "name", A_ARG, opt_name },         { "uuid", A_ARG, opt_uuid },
	{ "monitor", A_ARG, opt_monitor },   { "qmp", A_ARG, opt_qmp },
	{ "gdb", A_ARG, opt_gdb },           { "s", A_NONE, set_gdb_default },
	{ "S", A_NONE, set_paused },         { "rtc", A_ARG, opt_rtc },
	{ "global", A_ARG, set_global },     { "d", A_ARG, opt_d },
	{ "D", A_ARG, set_logfile },         { "boot", A_ARG, set_boot },
	{ "pidfile", A_ARG, set_pidfile },   { "ignore-device", A_ARG, set_ignore },
	{ "version", A_NONE, set_version },  { "help", A_NONE, set_help },
	{ "h", A_NONE, set_help },
};

static const struct qopt *find_option(const char *arg)
{
	if (arg[0] != '-')
		return NULL;
	arg += arg[1] == '-' ? 2 : 1;          /* QEMU takes --opt too */
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (!strcmp(arg, options[i].name))
			return &options[i];
	return NULL;
}

/* After all options: what depends on several of them. */
static int finish(struct qemu_cmdline *q)
{
	struct vm_config *c = q->cfg;
	enum serial_backend kind = SERIAL_NONE;
	const char *path = NULL;

	if (q->append && !q->kernel)
		return fail(q, "-append only allowed with -kernel option");
	if (q->initrd && !q->kernel)
		return fail(q, "-initrd only allowed with -kernel option");
	if (!q->kernel)
		return fail(q, "no -kernel: shrike boots a kernel directly, it has no firmware to "
			    "boot a disk");
	if (q->serial && chardev_backend(q, q->serial, "-serial", &kind, &path))
		return -1;
	if (!q->serial && q->nographic)
		kind = SERIAL_STDIO;
	if (q->virtconsole) {
		/* One console backend: the UART's output and hvc0 share it. */
		char spec[80];
		enum serial_backend vkind;
		const char *vpath = NULL;
		bool known = false;

		for (unsigned i = 0; i < q->nchardevs; i++)
			known |= !strcmp(q->chardev[i].id, q->virtconsole);
		if (!known)
			return fail(q, "-device virtconsole,chardev=%s: Property 'virtconsole.chardev' "
				    "can't find value '%s'", q->virtconsole, q->virtconsole);
		snprintf(spec, sizeof(spec), "chardev:%s", q->virtconsole);
		if (chardev_backend(q, spec, "-device virtconsole", &vkind, &vpath))
			return -1;
		if (q->serial && (vkind != kind || (vpath && path && strcmp(vpath, path))))
			return fail(q, "-device virtconsole,chardev=%s: shrike has one console backend; "
				    "-serial and virtconsole must name the same one", q->virtconsole);
		kind = vkind;
		path = vpath;
	}
	c->serial = kind;
	c->serial_path = path;
	/* QEMU builds the multiboot command line from the kernel's name and
	 * -append; shrike's loader does the same. */
	return 0;
}

int qemu_parse(struct vm_config *cfg, int argc, char **argv, char *err, size_t errlen,
	       int *status)
{
	struct qemu_cmdline *q = calloc(1, sizeof(*q));
	int r = 0;

	if (!q) {
		err_set(err, errlen, "out of memory");
		return 1;
	}
	*q = (struct qemu_cmdline){ .cfg = cfg, .err = err, .errlen = errlen };
	/* QEMU's defaults where shrike's differ. */
	cfg->memory = 128ull << 20;
	cfg->serial = SERIAL_NONE;
	cfg->no_debug_exit = true;
	cfg->qemu_personality = true;
	for (int i = 0; i < argc && !r && !q->done; i++) {
		const struct qopt *o = find_option(argv[i]);

		if (!o) {
			r = fail(q, "%s: invalid option", argv[i]);
			break;
		}
		if (o->has_arg == A_ARG) {
			if (i + 1 >= argc) {
				r = fail(q, "%s: requires an argument", argv[i]);
				break;
			}
			r = o->fn(q, argv[++i]);
		} else {
			r = o->fn(q, NULL);
		}
	}
	if (!r && !q->done)
		r = finish(q);
	*status = 0;
	if (q->done)
		r = -1;
	else if (r)
		r = 1;
	free(q);
	return r;
}

/* Written without following a link at the name (a planted link would have
 * shrike truncate its target); returns whether it was written, so that
 * only a file shrike wrote is removed at exit. */
static bool write_pidfile(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	char buf[24];
	int n;

	if (fd < 0) {
		log_error("cannot create PID file: %s", strerror(errno));
		return false;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		log_error("cannot write PID file: %s", strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

int qemu_main(int argc, char **argv, uint64_t start_ns)
{
	struct vm_config cfg;
	bool pidfile_written;
	char err[1024];
	int status, r;

	log_set_program(QEMU_PROGRAM);
	config_defaults(&cfg);
	r = qemu_parse(&cfg, argc - 1, argv + 1, err, sizeof(err), &status);
	if (r < 0)
		return status;
	if (r > 0) {
		log_error("%s", err);
		return 1;
	}
	cfg.start_ns = start_ns;
	log_set_guest_errors(cfg.log_guest_errors);
	pidfile_written = cfg.pidfile && write_pidfile(cfg.pidfile);
	signal(SIGPIPE, SIG_IGN);
	vcpu_signals_init();
	status = launch(&cfg);
	if (pidfile_written)
		unlink(cfg.pidfile);
	/* Every error is 1 under QEMU's name; a guest's exit value is odd. */
	return status == EXIT_USAGE ? 1 : status;
}
