/*
 * QEMU's isa-debug-exit convention (iobase 0xf4, iosize 4): a write of v
 * ends the VM with exit status (v << 1) | 1, so test kernels written for
 * QEMU work unchanged.
 *
 * That status can collide with shrike's own: v = 0 gives 1 ("VMM
 * failure"), v >= 64 gives 129..255 ("killed by signal n").  With
 * --debug-exit-status distinct such values end with 127 instead, and every
 * colliding value is named on stderr so a harness can still tell.
 */
#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"

#define DISTINCT_FALLBACK 127

static int exit_status(const struct vm *vm, uint64_t value)
{
	int status = (int)(((value << 1) | 1) & 0xff);
	bool collides = status == 1 || status > 128;

	if (!collides)
		return status;
	if (vm->cfg.debug_exit_status == DEBUG_EXIT_DISTINCT) {
		log_error("guest debug-exit value 0x%llx: exit status %d", (unsigned long long)value,
			  DISTINCT_FALLBACK);
		return DISTINCT_FALLBACK;
	}
	if (!vm->cfg.qemu_personality)
		log_error("guest debug-exit value 0x%llx: exit status %d (not a VMM failure or a "
			  "signal)", (unsigned long long)value, status);
	return status;
}

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
	if (!vm_stopping(vm))
		vm_request_stop(vm, STOP_DEBUG_EXIT, exit_status(vm, value));
}

static const struct io_ops debug_exit_ops = {
	.read = debug_exit_read, .write = debug_exit_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

static int debug_exit_create(struct vm *vm, const struct device_params *p)
{
	if (vm_add_device(vm, &debug_exit_model, vm))
		return -1;
	return iobus_register(&vm->pio, p->base, p->size ? p->size : 4, &debug_exit_ops, vm,
			      "debug-exit");
}

const struct device_model debug_exit_model = {
	.name = "debug-exit",
	.create = debug_exit_create,
};
