#!/bin/sh
# A test harness written only against QEMU's command line, the way kernel
# test suites drive qemu-system-x86_64: a preflight that checks QEMU's error
# text for a missing kernel, then each test kernel with
#   -nodefaults -no-reboot -display none -serial stdio
#   -device isa-debug-exit,iobase=0xf4,iosize=0x4 -kernel K -smp N -append ARGS -initrd ENV
# and its exit status and serial output recorded.
#   QEMU=qemu-system-x86_64 run-kernels.sh GUEST_DIR OUT_DIR
# OUT_DIR/NN-NAME.status and .out for every kernel; exits 1 if
# the preflight fails.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=$1
OUT=$2
mkdir -p "$OUT"

# Preflight: a missing kernel must be reported as QEMU reports it.
msg=$("$QEMU" -nodefaults -display none -kernel "$OUT/no-such-kernel" 2>&1 >/dev/null)
status=$?
case "$msg" in
*"could not open kernel file '$OUT/no-such-kernel': No such file or directory"*) ;;
*) echo "preflight: unexpected message: $msg"; exit 1 ;;
esac
[ $status -eq 1 ] || { echo "preflight: status $status, expected 1"; exit 1; }

printf 'env=1 harness\n' >"$OUT/env.txt"

# name smp append; results are named NN-name (NN: the line)
n=0
while read -r name smp args; do
	[ -z "$name" ] && continue
	case "$name" in \#*) continue ;; esac
	[ "$args" = - ] && args=
	n=$((n + 1))
	tag=$(printf '%02d-%s' $n "$name")
	timeout -k 5 120 "$QEMU" -nodefaults -no-user-config -no-reboot -display none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
		-kernel "$GUEST/$name.elf" -smp "$smp" -append "$args" -initrd "$OUT/env.txt" \
		</dev/null >"$OUT/$tag.out" 2>"$OUT/$tag.err"
	echo $? >"$OUT/$tag.status"
done <<'KERNELS'
hello 1 -
hello 2 -
acpifind 1 -
bootinfo 2 -
cpuinfo 1 -
demo 2 -
exitcode 1 code=5
emulate 1 by-cpu
irqchip 1 case=pic_priority extra=1
irqchip 1 case=pic_level extra=1
irqchip 1 case=serial_paths extra=1
mmio 1 -
ports 1 -
reboot 1 -
rtcyear 1 -
spam 1 lines=200
spin 2 ms=200
stress 2 -
triplefault 1 -
vapic 1 -
vmport 1 -
vmport_cmds 1 -
vmport_cpl3 1 -
KERNELS
exit 0
