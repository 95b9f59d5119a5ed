#!/bin/sh
# A test runner written only against QEMU, the way x86 unit-test suites
# drive qemu-system-x86_64 (kvm-unit-tests' run script is the model):
#  1. probe: ask the binary `-device '?'` and use QEMU's test device
#     (pc-testdev, else the older testdev) only if the answer lists it;
#     pci-testdev likewise; no test device at all: every test is SKIP
#  2. pre-flight: a missing kernel must fail with QEMU's message
#  3. every test with -nodefaults, the test devices, isa-debug-exit at
#     0xf4, its -smp/-cpu/-append, under a timeout; the verdict from the
#     status: the kernel writes code c to isa-debug-exit, QEMU ends with
#     (c << 1) | 1, so 1 is PASS; 0 (a power-off, or a triple fault under
#     -no-reboot) is PASS if the kernel printed PASS, else ENDED; 124
#     TIMEOUT; another odd status FAIL; anything else ERROR (QEMU refused
#     to start)
#   QEMU=qemu-system-x86_64 probe-runner.sh GUEST_DIR OUT_DIR
# Writes OUT_DIR/verdicts ("NAME VERDICT" lines) and OUT_DIR/NAME.out/.err;
# exits 1 if the probe or the pre-flight fails.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=$1
OUT=$2
mkdir -p "$OUT"
: >"$OUT/verdicts"

devices=$("$QEMU" -device '?' 2>&1) || { echo "probe: -device '?' failed: $devices"; exit 1; }
testdev=
case "$devices" in
*'name "pc-testdev"'*) testdev="-device pc-testdev" ;;
*'name "testdev"'*) testdev="-device testdev,chardev=testdev -chardev null,id=testdev" ;;
esac
case "$devices" in
*'name "pci-testdev"'*) testdev="$testdev -device pci-testdev" ;;
esac
echo "probe: test devices: ${testdev:-none}" >"$OUT/probe"

msg=$("$QEMU" -nodefaults -display none -kernel "$OUT/no-such-kernel" 2>&1 >/dev/null)
status=$?
case "$msg" in
*"could not open kernel file '$OUT/no-such-kernel'"*) ;;
*) echo "pre-flight: unexpected message: $msg"; exit 1 ;;
esac
[ $status -eq 1 ] || { echo "pre-flight: status $status, expected 1"; exit 1; }

verdict() {
	case $1 in
	0) grep -q "^PASS" "$2" && echo PASS || echo ENDED ;;
	1) echo PASS ;;
	124) echo TIMEOUT ;;
	*) [ $(($1 % 2)) = 1 ] && echo FAIL || echo ERROR ;;
	esac
}

# name kernel smp cpu append ("-": none)
while read -r name kernel smp cpu args; do
	[ -z "$name" ] && continue
	case "$name" in \#*) continue ;; esac
	[ "$args" = - ] && args=
	if [ -z "$testdev" ]; then
		echo "$name SKIP" >>"$OUT/verdicts"
		continue
	fi
	cpuopt=
	[ "$cpu" = - ] || cpuopt="-cpu $cpu"
	# $testdev and $cpuopt are word lists on purpose.
	# shellcheck disable=SC2086
	timeout -k 5 "${TEST_TIMEOUT:-120}" "$QEMU" -nodefaults -no-user-config -no-reboot \
		-display none -serial stdio $testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
		-kernel "$GUEST/$kernel.elf" -smp "$smp" $cpuopt -append "$args" \
		</dev/null >"$OUT/$name.out" 2>"$OUT/$name.err"
	echo "$name $(verdict $? "$OUT/$name.out")" >>"$OUT/verdicts"
done <<'TESTS'
pctestdev         pctestdev   1 -          extra=1
pcitestdev        pcitestdev  1 -          -
pctestdev-smp     pctestdev   2 -          extra=1
pctestdev-qemu64  pctestdev   1 qemu64     extra=1
hello-kvm64       hello       1 kvm64      -
hello-qemu64-x2   hello       2 qemu64,+x2apic -
cpuinfo-qemu64    cpuinfo     1 qemu64     -
cpuinfo-kvm64     cpuinfo     1 kvm64      -
cpuinfo-max       cpuinfo     1 max        -
irqchip-pic-level irqchip     1 -          case=pic_level extra=1
exit-value-5      exitcode    1 -          value=5 size=4
triplefault       triplefault 1 -          -
qemu32-long-mode  hello       1 qemu32     -
TESTS
