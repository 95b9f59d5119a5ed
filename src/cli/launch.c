#include "cli/launch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

#include "board/board.h"
#include "cli/signals.h"
#include "cli/stats.h"
#include "control/qmp.h"
#include "gdb/gdbstub.h"
#include "base/log.h"
#include "base/safedir.h"
#include "core/landlock.h"
#include "core/sandbox.h"
#include "core/vm.h"
#include "loader/loader.h"
#include "snapshot/snapshot.h"
#include "x86/trace.h"

/* What a start needs besides the VM itself. */
struct launch {
	struct vm_config cfg;
	struct loader_input in;
	struct boot_plan plan;
	struct guest_mem mem;
	struct snapshot *snap;
	struct qmp *qmp;
	struct gdb_server *gdb;
	struct signal_watch *signals;
	struct vm vm;
	bool vm_created;
	char dirs[4][4096];            /* confine_main's: the sockets', the pid file's */
};

static int usage_error(const char *msg)
{
	log_error("%s", msg);
	return EXIT_USAGE;
}

static uint64_t host_memory(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return ~0ull;
	return (uint64_t)si.totalram * si.mem_unit;
}

/* A missing or unreadable kernel or initrd, as QEMU words it (scripts
 * match these lines); `linux`: the kernel is a bzImage. */
static int qemu_file_error(const char *what, const char *path, bool linux_kernel)
{
	struct stat st;
	int e = stat(path, &st) ? errno : S_ISDIR(st.st_mode) ? EISDIR : EACCES;

	if (!strcmp(what, "kernel")) {
		if (e == EISDIR)
			fprintf(stderr, "qemu: could not load kernel '%s': %s\n", path, strerror(e));
		else
			fprintf(stderr, "qemu: could not open kernel file '%s': %s\n", path,
				strerror(e));
	} else if (linux_kernel) {
		fprintf(stderr, "qemu: error reading initrd %s: %s\n", path, strerror(e));
	} else {
		fprintf(stderr, "%s: Failed to open file '%s'\n", log_program(), path);
	}
	return EXIT_USAGE;
}

/* Where decompressed kernels are kept: $XDG_CACHE_HOME/shrike or
 * ~/.cache/shrike (NULL without either). */
static const char *kernel_cache_dir(void)
{
	static char dir[4096];
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(dir, sizeof(dir), "%s/shrike", xdg);
	else if (home && *home)
		n = snprintf(dir, sizeof(dir), "%s/.cache/shrike", home);
	else
		return NULL;
	/* A truncated path would name some other directory: no cache. */
	return n > 0 && (size_t)n < sizeof(dir) - 128 ? dir : NULL;
}

/* Reads the kernel, initrd and modules named on the command line; each
 * error names the option. */
static int read_inputs(const struct vm_config *cfg, struct loader_input *in, char *err,
		       size_t errlen)
{
	char why[480];

	memset(in, 0, sizeof(*in));
	if (blob_read(&in->kernel, cfg->kernel_path, why, sizeof(why))) {
		err_set(err, errlen, "--kernel: %s", why);
		return -1;
	}
	in->force_flat = cfg->kernel_format == FORMAT_FLAT;
	in->cmdline = cfg->cmdline;
	in->cmdline_extra = cfg->linux_profile && *cfg->linux_profile ? cfg->linux_profile : NULL;
	in->linux_boot = (enum kernel_boot)cfg->kernel_boot;
	in->cache_dir = kernel_cache_dir();
	if (cfg->initrd_path) {
		if (blob_read(&in->modules[0], cfg->initrd_path, why, sizeof(why))) {
			err_set(err, errlen, "--initrd: %s", why);
			return -1;
		}
		in->nmodules = 1;
	}
	for (unsigned i = 0; i < cfg->nmodules; i++) {
		if (blob_read(&in->modules[in->nmodules], cfg->modules[i].path, why, sizeof(why))) {
			err_set(err, errlen, "--module: %s", why);
			return -1;
		}
		in->module_args[in->nmodules++] = cfg->modules[i].args;
	}
	return 0;
}

static void free_inputs(struct loader_input *in)
{
	blob_free(&in->kernel);
	for (unsigned i = 0; i < in->nmodules; i++)
		blob_free(&in->modules[i]);
}

static int reserve_ram(struct launch *l)
{
	int r;

	if (l->cfg.memory > host_memory()) {
		if (l->cfg.qemu_personality)
			log_error("cannot set up guest memory 'pc.ram': Cannot allocate memory");
		else
			log_error("--memory: %llu MiB exceeds the host's %llu MiB",
				  (unsigned long long)(l->cfg.memory >> 20),
				  (unsigned long long)(host_memory() >> 20));
		return EXIT_USAGE;
	}
	r = guest_mem_init(&l->mem, l->cfg.memory);
	if (r)
		log_error("cannot reserve %llu MiB of guest memory: %s",
			  (unsigned long long)(l->cfg.memory >> 20), strerror(-r));
	return r ? EXIT_VMM : 0;
}

/* The same under QEMU's name, with QEMU's messages for what harnesses
 * check: files that cannot be opened, a kernel of no known format. */
static int prepare_boot_qemu(struct launch *l)
{
	char err[512];
	bool linux_kernel;
	int r;

	if (read_inputs(&l->cfg, &l->in, err, sizeof(err))) {
		linux_kernel = l->in.kernel.data && bzimage_detect(l->in.kernel.data, l->in.kernel.size);
		if (!strncmp(err, "--kernel:", 9))
			return qemu_file_error("kernel", l->cfg.kernel_path, false);
		return qemu_file_error("initrd", l->cfg.initrd_path ? l->cfg.initrd_path : "",
				       linux_kernel);
	}
	r = reserve_ram(l);
	if (r)
		return r;
	l->in.mem = &l->mem;
	l->in.ncpus = l->cfg.cpus;
	l->in.board = board_pc_acpi();
	if (loader_plan(&l->in, &l->plan, err, sizeof(err))) {
		const struct blob *k = &l->in.kernel;

		if (strstr(err, "unrecognised kernel format"))
			fprintf(stderr, "qemu: invalid kernel header\n");
		else if (k->size >= 4 && !memcmp(k->data, "\177ELF", 4) && strstr(err, "neither"))
			log_error("Error loading uncompressed kernel without PVH ELF Note");
		else
			log_error("%s", err);
		return EXIT_USAGE;
	}
	return 0;
}

/* A boot: reads and validates every input before KVM is touched, so that
 * bad input is reported as such even on a machine without /dev/kvm. */
static int prepare_boot(struct launch *l)
{
	char err[512];
	int r;

	if (l->cfg.qemu_personality)
		return prepare_boot_qemu(l);
	if (read_inputs(&l->cfg, &l->in, err, sizeof(err)))
		return usage_error(err);
	r = reserve_ram(l);
	if (r)
		return r;
	l->in.mem = &l->mem;
	l->in.ncpus = l->cfg.cpus;
	l->in.board = board_pc_acpi();
	if (loader_plan(&l->in, &l->plan, err, sizeof(err)))
		return usage_error(err);
	return 0;
}

/* A restore: the snapshot says what the machine is. */
static int prepare_restore(struct launch *l)
{
	const char *path = l->cfg.incoming + 5;
	char err[600];
	int r;

	if (strncmp(l->cfg.incoming, "file:", 5) || !*path)
		return usage_error("--incoming: expected file:PATH");
	l->snap = snapshot_open(path, err, sizeof(err));
	if (!l->snap || snapshot_config(l->snap, &l->cfg, err, sizeof(err)))
		return usage_error(err);
	r = reserve_ram(l);
	if (r)
		return r;
	if (snapshot_load_ram(l->snap, &l->mem, l->cfg.restore_read, err, sizeof(err)))
		return usage_error(err);
	l->cfg.cpuid = snapshot_cpuid(l->snap);
	return 0;
}

static int create(struct launch *l)
{
	char err[600];
	int r = vm_create(&l->vm, &l->cfg, &l->mem, board_pc_create);

	l->vm_created = true;
	if (r)
		return r == -EDOM ? EXIT_USAGE : EXIT_VMM;
	if (l->cfg.trace_path) {
		l->vm.trace = trace_open(l->cfg.trace_path, l->cfg.trace_msrs, l->vm.t0_ns, err,
					 sizeof(err));
		if (!l->vm.trace) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
	}
	if (l->snap) {
		vm_set_run_state(&l->vm, RS_INMIGRATE);
		if (snapshot_restore(l->snap, &l->vm, err, sizeof(err))) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
		snapshot_close(l->snap);
		l->snap = NULL;
	} else {
		r = vm_boot(&l->vm, &l->plan);
		memset(&l->plan, 0, sizeof(l->plan));     /* the VM owns it now */
		if (r)
			return EXIT_VMM;
	}
	if (l->cfg.qmp) {
		l->qmp = qmp_create(&l->vm, l->cfg.qmp, err, sizeof(err));
		if (!l->qmp) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
		/* Before signals are blocked: SIGTERM still ends a wait. */
		if (qmp_wait_client(l->qmp) || qmp_attach(l->qmp))
			return EXIT_VMM;
	}
	if (l->cfg.gdb) {
		/* QEMU's -gdb has no such option: an address named there is
		 * taken as meant (with a warning). */
		l->gdb = gdb_server_create(&l->vm, l->cfg.gdb,
					   l->cfg.gdb_allow_remote || l->cfg.qemu_personality, err,
					   sizeof(err));
		if (!l->gdb) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
		if (gdb_server_attach(l->gdb))
			return EXIT_VMM;
	}
	return 0;
}

/* Argument forms checked before anything is read or created. */
static int check_specs(const struct vm_config *cfg)
{
	char err[300];

	if ((cfg->qmp && qmp_check_spec(cfg->qmp, err, sizeof(err))) ||
	    (cfg->gdb && gdb_check_spec(cfg->gdb, err, sizeof(err))))
		return usage_error(err);
	return 0;
}

/* The main thread's allow-list, once everything that needs more is done
 * (the vCPU threads install theirs as they start). */
/* The directory part of a path, up to a comma (QMP's "PATH,server=on"). */
static const char *dir_of(const char *path, char *buf, size_t len)
{
	return path_dir(path, strcspn(path, ","), buf, len);
}

/* Where the main thread may make and remove files from now on. */
static int confine_main(struct launch *l, char *err, size_t errlen)
{
	struct confine_dirs d = { .n = 0 };
	const char *tmpdir = getenv("TMPDIR");

	for (unsigned i = 0; i < l->cfg.nsnapshot_dirs; i++)
		confine_add(&d, l->cfg.snapshot_dir[i]);
	if (!l->cfg.nsnapshot_dirs) {
		confine_add(&d, ".");
		confine_add(&d, tmpdir && *tmpdir == '/' ? tmpdir : "/tmp");
	}
	/* The sockets shrike made, and the pid file, are removed at exit. */
	if (l->cfg.qmp && !strncmp(l->cfg.qmp, "unix:", 5))
		confine_add_removal(&d, dir_of(l->cfg.qmp + 5, l->dirs[0], sizeof(l->dirs[0])));
	if (l->cfg.gdb && !strncmp(l->cfg.gdb, "unix:", 5))
		confine_add_removal(&d, dir_of(l->cfg.gdb + 5, l->dirs[1], sizeof(l->dirs[1])));
	if (l->cfg.pidfile)
		confine_add_removal(&d, dir_of(l->cfg.pidfile, l->dirs[2], sizeof(l->dirs[2])));
	if (l->cfg.vsock.uds)
		confine_add_removal(&d, dir_of(l->cfg.vsock.uds, l->dirs[3], sizeof(l->dirs[3])));
	return confine_files(&d, err, errlen) < 0 ? -1 : 0;
}

static int sandbox_main(struct launch *l)
{
	enum sandbox_mode mode = (enum sandbox_mode)l->cfg.seccomp;
	char err[600];

	/* Landlock before seccomp (whose list has no Landlock calls); not in
	 * log mode, whose point is to see what a feature needs. */
	if ((mode != SANDBOX_ON || !confine_main(l, err, sizeof(err))) &&
	    !sandbox_install(ROLE_MAIN, mode, err, sizeof(err)))
		return 0;
	log_error("%s", err);
	vm_request_stop(&l->vm, STOP_ERROR, 1);
	vm_wait(&l->vm);
	return -1;
}

int launch(const struct vm_config *cfg)
{
	struct launch *l = calloc(1, sizeof(*l));
	int status;

	if (!l) {
		log_error("out of memory");
		return EXIT_VMM;
	}
	l->cfg = *cfg;
	status = check_specs(&l->cfg);
	if (!status)
		status = l->cfg.incoming ? prepare_restore(l) : prepare_boot(l);
	if (!status)
		status = create(l);
	if (!status) {
		signals_block();
		l->signals = signals_watch(&l->vm);
		if (l->cfg.start_paused || l->cfg.gdb_wait)
			vm_pause_async(&l->vm, PAUSE_PRELAUNCH);
		sandbox_signals_init();
		status = vm_start(&l->vm) ? EXIT_VMM : sandbox_main(l) ? EXIT_VMM : vm_wait(&l->vm);
		signals_close(l->signals);
		if (l->cfg.stats)
			stats_print(&l->vm, stderr);
	}
	gdb_server_destroy(l->gdb, status);
	qmp_destroy(l->qmp);
	if (l->vm_created) {
		vm_destroy(&l->vm);
		trace_close(l->vm.trace);
	} else
		guest_mem_free(&l->mem);
	boot_plan_free(&l->plan);
	snapshot_close(l->snap);
	free_inputs(&l->in);
	free(l);
	return status;
}
