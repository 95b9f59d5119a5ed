/*
 * The floor for a port-I/O exit: the least a VMM can do.  One VM, one vCPU,
 * the in-kernel irqchip (as shrike had; --no-irqchip: none), a flat
 * real-mode image at 0x1000:0000, and a KVM_RUN loop that does nothing on an
 * I/O exit except stop at the debug-exit port.  Used by bench/run.sh and
 * bench/startup.py beside shrike.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	size_t mem_size = 1 << 20;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2, .rsp = 0x8000 };
	struct kvm_run *run;
	uint8_t *mem;
	int kvm, vm, vcpu, fd;
	ssize_t n;

	bool irqchip = !(argc == 3 && !strcmp(argv[2], "--no-irqchip"));

	if (argc != 2 && irqchip)
		return fprintf(stderr, "usage: bare_pio FLAT-IMAGE [--no-irqchip]\n"), 2;
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0 ||
	    (irqchip && ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0))
		die("create vm");
	mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = { .memory_size = mem_size,
						 .userspace_addr = (uint64_t)(uintptr_t)mem };
	if (mem == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("memory");
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || (n = read(fd, mem + 0x10000, 0x80000)) <= 0)
		die(argv[1]);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("vcpu");
	sregs.cs.selector = sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0x1000;
	sregs.cs.base = sregs.ds.base = sregs.es.base = sregs.ss.base = 0x10000;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("set state");
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xf4)
			return ((*((uint8_t *)run + run->io.data_offset)) << 1) | 1;
		if (run->exit_reason != KVM_EXIT_IO)
			return fprintf(stderr, "exit %u\n", run->exit_reason), 1;
	}
}
