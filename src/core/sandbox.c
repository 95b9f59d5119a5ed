#include "core/sandbox.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/chardev.h"
#include "base/log.h"

/* ---- the allow-lists ---- */

/* Every thread: memory, locks, signals, time, its own end. */
static const char *const common_calls[] = {
	"futex", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
	"getpid", "gettid", "exit", "exit_group", "mmap", "munmap", "mprotect",
	"madvise", "mremap", "brk", "write", "writev", "fstat", "newfstatat", "lseek",
	"clock_gettime", "clock_nanosleep", "nanosleep", "sched_yield", "getrandom", "rseq",
	"ioctl",
};

/* The main thread (and the snapshot writer it starts): the main loop,
 * sockets of the control socket and the debugger, snapshot files, /proc for
 * --stats, threads, teardown. */
static const char *const main_calls[] = {
	"read", "readv", "pread64", "pwrite64", "poll", "ppoll", "accept", "accept4", "sendto",
	"recvfrom", "sendmsg", "recvmsg", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"close", "openat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "fsync",
	"fdatasync", "ftruncate", "fcntl", "copy_file_range", "timerfd_settime",
	"timerfd_gettime", "eventfd2", "signalfd4", "set_robust_list", "rt_sigaction", "sysinfo",
	"getrusage", "prlimit64", "statx", "faccessat", "faccessat2", "readlink", "readlinkat",
	"getdents64", "dup", "fadvise64",
	"geteuid",                              /* migrate: may the save replace a file */
};

/* A vCPU thread: beyond the common set, eventfd reads and the PIT's timer. */
static const char *const vcpu_calls[] = {
	"read", "poll", "ppoll",
	"timerfd_settime", "timerfd_gettime",   /* the guest programs the PIT */
};

/* A device's I/O thread (virtio/pci.c): its queues' eventfds, its backing
 * file, interrupts (an irqfd's eventfd, or KVM_SIGNAL_MSI below). */
static const char *const io_calls[] = {
	"read", "poll", "ppoll", "pread64", "pwrite64", "preadv", "pwritev", "fdatasync", "fsync",
	"fallocate", "io_uring_enter",
	/* virtio-vsock's host ends (socket() itself: Unix sockets only, below) */
	"readv", "recvfrom", "accept4", "connect", "shutdown", "close", "epoll_wait",
	"epoll_pwait", "epoll_ctl", "timerfd_settime",   /* and its CONNECT time limit */
};

/* The vCPU's own ioctls, and the VM's that devices use at run time. */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_SREGS2,
	KVM_SET_SREGS2, KVM_GET_FPU, KVM_SET_FPU, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_SET_XSAVE,
	KVM_GET_XCRS, KVM_SET_XCRS, KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_LAPIC, KVM_SET_LAPIC,
	KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
	KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_TRANSLATE, KVM_INTERRUPT, KVM_SET_GUEST_DEBUG,
	KVM_GET_CPUID2, KVM_NMI, KVM_KVMCLOCK_CTRL,
	KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SET_GSI_ROUTING, KVM_SIGNAL_MSI,
	KVM_IOEVENTFD,                          /* a virtio BAR moved */
	TCGETS, TCSETS, TCSETSW, TCSETSF,       /* the terminal, restored on a fatal signal */
	TUNSETOFFLOAD,                          /* virtio-net: what the driver takes */
	/* vhost-vsock takes or gives back its queues (DRIVER_OK, resets, saves) */
	VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
	VHOST_GET_VRING_BASE, VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL,
	VHOST_VSOCK_SET_RUNNING,
};

/* The main thread also saves and resets the VM's irqchip and clock. */
static const unsigned long main_ioctls[] = {
	KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_GET_PIT2, KVM_SET_PIT2, KVM_GET_CLOCK, KVM_SET_CLOCK,
	KVM_CHECK_EXTENSION, FIONREAD,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *role_name[] = { [ROLE_MAIN] = "main", [ROLE_VCPU] = "vCPU", [ROLE_IO] = "I/O" };

enum sandbox_mode sandbox_default_mode(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return SANDBOX_OFF;
#else
	return SANDBOX_ON;
#endif
}

static int allow_calls(scmp_filter_ctx ctx, const char *const *names, size_t n, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (!strcmp(names[i], "ioctl"))
			continue;          /* by request, below */
		if (nr == __NR_SCMP_ERROR)
			continue;          /* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) {
			err_set(err, errlen, "seccomp: cannot allow %s", names[i]);
			return -1;
		}
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n, char *err,
			size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		/* The request is an unsigned int in the kernel: compare 32 bits. */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req[i] & 0xffffffffu))) {
			err_set(err, errlen, "seccomp: cannot allow ioctl 0x%lx", req[i]);
			return -1;
		}
	}
	return 0;
}

static int build(scmp_filter_ctx ctx, enum sandbox_role role, char *err, size_t errlen)
{
	if (allow_calls(ctx, common_calls, N(common_calls), err, errlen) ||
	    allow_ioctls(ctx, vcpu_ioctls, N(vcpu_ioctls), err, errlen))
		return -1;
	/* Signals to this process's own threads only (kicks, raise): a
	 * compromised thread must not signal other processes (security
	 * review 2, N9); tkill, which names no process, not at all. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0))) {
		err_set(err, errlen, "seccomp: cannot set the rule for tgkill");
		return -1;
	}
	if (role == ROLE_IO &&
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0)) {
		/* glibc's malloc opens /proc/sys/vm/overcommit_memory when a
		 * thread's arena shrinks (an I/O thread's, at its exit): refused,
		 * quietly; malloc then keeps the memory. */
		err_set(err, errlen, "seccomp: cannot set the rule for openat");
		return -1;
	}
	if (role == ROLE_VCPU)
		return allow_calls(ctx, vcpu_calls, N(vcpu_calls), err, errlen);
	if (role == ROLE_IO) {
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) {
			err_set(err, errlen, "seccomp: cannot set the rule for socket");
			return -1;
		}
		return allow_calls(ctx, io_calls, N(io_calls), err, errlen);
	}
	if (allow_calls(ctx, main_calls, N(main_calls), err, errlen) ||
	    allow_ioctls(ctx, main_ioctls, N(main_ioctls), err, errlen))
		return -1;
	/* Threads only (the snapshot writer), never a new process; clone3's
	 * arguments are out of a filter's reach: ENOSYS makes glibc use
	 * clone. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) {
		err_set(err, errlen, "seccomp: cannot set the rules for clone");
		return -1;
	}
	return 0;
}

/* The thread's name, taken before the filter forbids asking for it. */
static __thread char thread_name[16] = "?";

int sandbox_install(enum sandbox_role role, enum sandbox_mode mode, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int r;

	if (mode == SANDBOX_OFF)
		return 0;
	prctl(PR_GET_NAME, thread_name, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err_set(err, errlen, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	ctx = seccomp_init(mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx) {
		err_set(err, errlen, "seccomp: cannot create a filter");
		return -1;
	}
	r = build(ctx, role, err, errlen);
	if (!r && seccomp_load(ctx)) {
		err_set(err, errlen, "seccomp: cannot load the %s filter", role_name[role]);
		r = -1;
	}
	seccomp_release(ctx);
	return r;
}

const char *const *sandbox_syscalls(enum sandbox_role role, size_t *n)
{
	static const char *list[3][N(common_calls) + N(main_calls) + N(vcpu_calls) + N(io_calls) + 1];
	static size_t len[3];

	if (!len[role]) {
		size_t k = 0;

		for (size_t i = 0; i < N(common_calls); i++)
			list[role][k++] = common_calls[i];
		if (role == ROLE_MAIN)
			for (size_t i = 0; i < N(main_calls); i++)
				list[role][k++] = main_calls[i];
		else if (role == ROLE_VCPU)
			for (size_t i = 0; i < N(vcpu_calls); i++)
				list[role][k++] = vcpu_calls[i];
		else
			for (size_t i = 0; i < N(io_calls); i++)
				list[role][k++] = io_calls[i];
		len[role] = k;
	}
	*n = len[role];
	return list[role];
}

/* ---- a forbidden call ---- */

/* System call names, resolved once before any filter: the handler may not
 * allocate (the forbidden call can come from inside malloc, holding its
 * lock: a thread's exit trimming its arena opens a /proc file). */
#define MAX_SYSCALL_NR 512
static char syscall_names[MAX_SYSCALL_NR][24];

static void resolve_syscall_names(void)
{
	for (int nr = 0; nr < MAX_SYSCALL_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		snprintf(syscall_names[nr], sizeof(syscall_names[nr]), "%s", name ? name : "?");
		free(name);
	}
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[256];
	int nr = si->si_syscall, n;
	ssize_t w;

	(void)sig, (void)ctx;
	terminal_restore();
	n = snprintf(line, sizeof(line), "%s: seccomp: thread '%s' made the forbidden system call "
		     "%s (%d); ending (--seccomp log to find what a feature needs)\n", log_program(),
		     thread_name, nr >= 0 && nr < MAX_SYSCALL_NR ? syscall_names[nr] : "?", nr);
	w = write(STDERR_FILENO, line, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	(void)w;
	_exit(1);
}

void sandbox_signals_init(void)
{
	struct sigaction sa;

	resolve_syscall_names();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
}
