/*
 * The seccomp sandbox: once the VM is set up, every thread runs under a
 * seccomp-BPF allow-list (built with Debian's libseccomp) of the system
 * calls it needs, and for ioctl the requests: a vCPU thread may drive its
 * vCPU and raise interrupt lines, never create a VM, map memory or open a
 * file; the main thread serves the main loop, the control socket, the
 * debugger, snapshots and teardown.  PR_SET_NO_NEW_PRIVS comes first.
 *
 * A forbidden call raises SIGSYS (SECCOMP_RET_TRAP); the handler restores
 * the terminal, names the call and the thread in one line and ends the
 * process with status 1.  glibc starts threads with clone3, whose arguments
 * a filter cannot inspect: it gets ENOSYS and glibc falls back to clone,
 * which is allowed only for threads (CLONE_THREAD).
 *
 *   --seccomp on    the default
 *   --seccomp log   forbidden calls are allowed and logged by the kernel
 *                   (audit), for finding what a new feature needs
 *   --seccomp off
 *
 * Sanitizer builds default to off: LeakSanitizer's exit check and
 * ThreadSanitizer's background thread make calls no VMM thread needs.
 */
#ifndef SHRIKE_SANDBOX_H
#define SHRIKE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_mode { SANDBOX_OFF, SANDBOX_ON, SANDBOX_LOG };
enum sandbox_role { ROLE_MAIN, ROLE_VCPU, ROLE_IO };

/* What --seccomp means when not given (off in sanitizer builds). */
enum sandbox_mode sandbox_default_mode(void);

/* Installs the role's filter on the calling thread.  0, or -1 with a
 * message. */
int sandbox_install(enum sandbox_role role, enum sandbox_mode mode, char *err, size_t errlen);

/* The SIGSYS handler; once per process, before any filter. */
void sandbox_signals_init(void);

/* The role's allowed system calls (by name), for the tests. */
const char *const *sandbox_syscalls(enum sandbox_role role, size_t *n);

#endif
