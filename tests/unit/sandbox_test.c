/*
 * The seccomp sandbox (core/sandbox.c), in child processes: every call on
 * a role's list goes through (with arguments that make it fail harmlessly:
 * the filter only has to let it reach the kernel), and a call outside it
 * ends the child with status 1 and a line naming the call and the thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/sandbox.h"

struct outcome {
	int status;                /* exit status, or 128 + signal */
	char err[512];
};

/* Runs fn in a child that installed the role's filter first. */
static struct outcome in_child(enum sandbox_role role, void (*fn)(void))
{
	struct outcome o = { -1, "" };
	int p[2];
	pid_t pid;
	ssize_t n;

	if (pipe(p))
		return o;
	pid = fork();
	if (pid == 0) {
		char err[200];

		dup2(p[1], STDERR_FILENO);
		prctl(PR_SET_NAME, "CPU 7/KVM", 0, 0, 0);
		sandbox_signals_init();
		if (sandbox_install(role, SANDBOX_ON, err, sizeof(err))) {
			ssize_t w = write(STDERR_FILENO, err, strlen(err));

			(void)w;
			_exit(99);
		}
		fn();
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], o.err, sizeof(o.err) - 1);
	o.err[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(pid, &o.status, 0);
	o.status = WIFEXITED(o.status) ? WEXITSTATUS(o.status) : 128 + WTERMSIG(o.status);
	return o;
}

static bool skipped_call(const char *name)
{
	/* These end or replace the caller whatever the arguments. */
	static const char *const skip[] = { "exit", "exit_group", "rt_sigreturn", "clone" };

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

static enum sandbox_role current_role;

static void call_every_allowed(void)
{
	size_t n;
	const char *const *names = sandbox_syscalls(current_role, &n);

	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr < 0 || skipped_call(names[i]))
			continue;
		if (!strcmp(names[i], "ioctl")) {
			/* An allowed request on no file. */
			syscall(nr, -1, KVM_RUN, 0);
			continue;
		}
		syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
	}
}

static void vcpu_allowed(void)
{
	struct outcome o;

	current_role = ROLE_VCPU;
	o = in_child(ROLE_VCPU, call_every_allowed);
	CHECK_EQ(o.status, 0);
}

static void main_allowed(void)
{
	struct outcome o;

	current_role = ROLE_MAIN;
	o = in_child(ROLE_MAIN, call_every_allowed);
	CHECK_EQ(o.status, 0);
}

static void do_execve(void)
{
	static char prog[] = "/bin/true";
	char *argv[] = { prog, NULL };

	execve(prog, argv, environ);
}

static void do_open_new_file(void)
{
	int fd = open("/tmp/shrike-sandbox-test-file", O_CREAT | O_WRONLY, 0600);

	if (fd >= 0) {
		close(fd);
		unlink("/tmp/shrike-sandbox-test-file");
	}
}

static void do_create_vm(void)
{
	ioctl(-1, KVM_CREATE_VM, 0);
}

static void do_fork(void)
{
	/* glibc's fork is clone without CLONE_THREAD. */
	syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

static void do_clone3(void)
{
	long r = syscall(SYS_clone3, NULL, 0);

	/* ENOSYS, not a kill: glibc falls back to clone. */
	_exit(r < 0 && errno == ENOSYS ? 42 : 43);
}

/* Signal 0 to another process (the test itself, whose pid main() keeps
 * before any filter): harmless if allowed. */
static pid_t test_process;

static void do_tgkill_other(void)
{
	syscall(SYS_tgkill, test_process, test_process, 0);
}

static void do_tgkill_own(void)
{
	_exit(syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), 0) == 0 ? 42 : 43);
}

static void killed(enum sandbox_role role, void (*fn)(void), const char *call)
{
	struct outcome o = in_child(role, fn);
	char want[64];

	CHECK_EQ(o.status, 1);
	snprintf(want, sizeof(want), "forbidden system call %s (", call);
	CHECK_CONTAINS(o.err, want);
	CHECK_CONTAINS(o.err, "thread 'CPU 7/KVM'");
}

static void vcpu_execve_killed(void) { killed(ROLE_VCPU, do_execve, "execve"); }
static void vcpu_open_killed(void) { killed(ROLE_VCPU, do_open_new_file, "openat"); }
static void vcpu_create_vm_killed(void) { killed(ROLE_VCPU, do_create_vm, "ioctl"); }
static void main_execve_killed(void) { killed(ROLE_MAIN, do_execve, "execve"); }
static void main_fork_killed(void) { killed(ROLE_MAIN, do_fork, "clone"); }

static void vcpu_tgkill_other_killed(void) { killed(ROLE_VCPU, do_tgkill_other, "tgkill"); }
static void main_tgkill_other_killed(void) { killed(ROLE_MAIN, do_tgkill_other, "tgkill"); }

static void vcpu_tgkill_own_allowed(void)
{
	struct outcome o = in_child(ROLE_VCPU, do_tgkill_own);

	CHECK_EQ(o.status, 42);
}

/* An I/O thread (virtio) opening a file gets EACCES, not a kill: glibc's
 * malloc opens a /proc file when a thread's arena shrinks at its exit, and
 * the SIGSYS that caused once came from inside malloc (a deadlock). */
static void do_open_proc(void)
{
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);

	_exit(fd < 0 && errno == EACCES ? 42 : 43);
}

static void io_open_refused(void)
{
	struct outcome o = in_child(ROLE_IO, do_open_proc);

	CHECK_EQ(o.status, 42);
}

static void io_execve_killed(void) { killed(ROLE_IO, do_execve, "execve"); }

/* virtio-vsock's I/O thread makes Unix sockets, never a network one. */
static void do_unix_socket(void)
{
	_exit(socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 42 : 43);
}

static void do_inet_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

static void io_unix_socket_allowed(void)
{
	struct outcome o = in_child(ROLE_IO, do_unix_socket);

	CHECK_EQ(o.status, 42);
}

static void io_inet_socket_killed(void) { killed(ROLE_IO, do_inet_socket, "socket"); }

static void main_clone3_enosys(void)
{
	struct outcome o = in_child(ROLE_MAIN, do_clone3);

	CHECK_EQ(o.status, 42);
}

int main(void)
{
	if (sandbox_default_mode() == SANDBOX_OFF) {
		printf("SKIP sandbox_tests: a sanitizer build runs without the sandbox\n");
		return 0;
	}
	test_process = getpid();
	run_test("sandbox_vcpu_allows_its_list", vcpu_allowed);
	run_test("sandbox_main_allows_its_list", main_allowed);
	run_test("sandbox_vcpu_execve_killed", vcpu_execve_killed);
	run_test("sandbox_vcpu_open_new_file_killed", vcpu_open_killed);
	run_test("sandbox_vcpu_create_vm_killed", vcpu_create_vm_killed);
	run_test("sandbox_main_execve_killed", main_execve_killed);
	run_test("sandbox_main_fork_killed", main_fork_killed);
	run_test("sandbox_clone3_gets_enosys", main_clone3_enosys);
	run_test("sandbox_vcpu_tgkill_other_process_killed", vcpu_tgkill_other_killed);
	run_test("sandbox_main_tgkill_other_process_killed", main_tgkill_other_killed);
	run_test("sandbox_vcpu_tgkill_own_thread_allowed", vcpu_tgkill_own_allowed);
	run_test("sandbox_io_open_gets_eacces", io_open_refused);
	run_test("sandbox_io_execve_killed", io_execve_killed);
	run_test("sandbox_io_unix_socket_allowed", io_unix_socket_allowed);
	run_test("sandbox_io_inet_socket_killed", io_inet_socket_killed);
	return check_failures ? 1 : 0;
}
