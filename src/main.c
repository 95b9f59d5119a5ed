/* shrike: the command line (architecture contract, sections 1 and 2). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "core/config.h"
#include "core/log.h"
#include "core/vm.h"
#include "loader/loader.h"

#define SHRIKE_VERSION "0.1.0"
#define EXIT_USAGE 2
#define EXIT_VMM   1

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shrike run --kernel PATH [options]\n"
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
		"  --uuid UUID              the VM's UUID (default: random, kept across resets)\n"
		"  --no-vmport, --no-vapic  remove those devices\n"
		"\n"
		"exit status: 0 power-off, (v<<1)|1 debug-exit write of v, 1 VMM failure,\n"
		"2 bad usage or input, 128+n killed by signal n\n");
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "shrike: %s\n", msg);
	return EXIT_USAGE;
}

static uint64_t host_memory(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return ~0ull;
	return (uint64_t)si.totalram * si.mem_unit;
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

/* Reads the kernel, initrd and modules named on the command line. */
static int read_inputs(const struct vm_config *cfg, struct loader_input *in, char *err,
		       size_t errlen)
{
	memset(in, 0, sizeof(*in));
	if (blob_read(&in->kernel, cfg->kernel_path, err, errlen))
		return -1;
	in->force_flat = cfg->kernel_format == FORMAT_FLAT;
	in->cmdline = cfg->cmdline;
	in->linux_boot = (enum kernel_boot)cfg->kernel_boot;
	in->cache_dir = kernel_cache_dir();
	if (cfg->initrd_path) {
		if (blob_read(&in->modules[0], cfg->initrd_path, err, errlen))
			return -1;
		in->nmodules = 1;
	}
	for (unsigned i = 0; i < cfg->nmodules; i++) {
		if (blob_read(&in->modules[in->nmodules], cfg->modules[i].path, err, errlen))
			return -1;
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

/* Reads and validates every input before KVM is touched, so that bad
 * input is reported as such even on a machine without /dev/kvm. */
static int prepare(const struct vm_config *cfg, struct loader_input *in, struct guest_mem *mem,
		   struct boot_plan *plan)
{
	char err[512];
	int r;

	memset(plan, 0, sizeof(*plan));
	memset(mem, 0, sizeof(*mem));
	if (read_inputs(cfg, in, err, sizeof(err)))
		return usage_error(err);
	r = guest_mem_init(mem, cfg->memory);
	if (r) {
		log_error("cannot reserve %llu MiB of guest memory: %s",
			  (unsigned long long)(cfg->memory >> 20), strerror(-r));
		return EXIT_VMM;
	}
	in->mem = mem;
	in->ncpus = cfg->cpus;
	if (loader_plan(in, plan, err, sizeof(err)))
		return usage_error(err);
	return 0;
}

/* The main thread serves SIGINT, SIGTERM and SIGHUP through a signalfd
 * (core/vm.c), and vCPU threads take only the kick signal: block them all
 * before the first thread exists (threads inherit the mask).  Until then
 * the default actions apply, so a long decompression can be interrupted. */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int run(const struct vm_config *cfg)
{
	struct loader_input in;
	struct guest_mem mem;
	struct boot_plan plan;
	struct vm vm;
	int status, r;

	status = prepare(cfg, &in, &mem, &plan);
	if (status) {
		boot_plan_free(&plan);
		guest_mem_free(&mem);
		free_inputs(&in);
		return status;
	}
	r = vm_create(&vm, cfg, &mem);
	if (r) {
		boot_plan_free(&plan);
		vm_destroy(&vm);
		free_inputs(&in);
		return r == -EDOM ? EXIT_USAGE : EXIT_VMM;
	}
	block_signals();
	status = vm_boot(&vm, &plan) || vm_start(&vm) ? EXIT_VMM : 0;
	if (!status)
		status = vm_wait(&vm);
	vm_destroy(&vm);
	free_inputs(&in);
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[512];

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
	config_defaults(&cfg);
	if (config_parse(&cfg, argc - 2, argv + 2, err, sizeof(err)))
		return usage_error(err);
	if (cfg.memory > host_memory()) {
		snprintf(err, sizeof(err), "--memory: %llu MiB exceeds the host's %llu MiB",
			 (unsigned long long)(cfg.memory >> 20),
			 (unsigned long long)(host_memory() >> 20));
		return usage_error(err);
	}
	/* A reader that goes away makes writes fail with EPIPE (counted by
	 * the serial backend) instead of killing shrike. */
	signal(SIGPIPE, SIG_IGN);
	vcpu_signals_init();
	return run(&cfg);
}
