/* QEMU's isa-debug-exit convention (iobase 0xf4, iosize 4): a write of v
 * ends the VM with exit status (v << 1) | 1, so test kernels written for
 * QEMU work unchanged. */
#include "core/vm.h"
#include "hw/devices.h"

static uint64_t debug_exit_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)size;
	return 0;
}

static void debug_exit_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			     unsigned size)
{
	struct vm *vm = opaque;

	(void)vcpu, (void)off, (void)size;
	vm_request_stop(vm, STOP_DEBUG_EXIT, (int)(((value << 1) | 1) & 0xff));
}

static const struct io_ops debug_exit_ops = {
	.read = debug_exit_read, .write = debug_exit_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

int debug_exit_create(struct vm *vm)
{
	return iobus_register(&vm->pio, 0xf4, 4, &debug_exit_ops, vm, "debug-exit");
}
