#!/usr/bin/env bash
# Time from process start to the first output of init (the initramfs's
# "SHRIKE-INIT" line) with Debian's kernel and a busybox initramfs, 1 vCPU,
# 256 MiB, shrike and QEMU -M microvm side by side, alternated, medians of
# RUNS runs (default 3) over the runs that reached init (a run that shows
# nothing for LIMIT seconds, default 90, is counted as a stall and left out:
# QEMU's TCG sometimes never returns from a nested guest, whichever VMM runs
# it).  Each VMM runs with its default irqchip (split for both) and with
# the interrupt controllers in KVM.  Needs a KVM that runs guest user space (hardware,
# or the nested test VM: tests/nested/run.py -- bench/linux-init.sh, which
# is what make bench-nested does).
#   shrike: vmlinux through PVH, and the bzImage through the boot protocol
#   QEMU:   -M microvm with the same vmlinux (PVH) and bzImage
#   both again with --irqchip kernel / kernel-irqchip=on (PVH)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
LIMIT=${LIMIT:-90}
OUT=$BUILD/bench
IMG=guest-images/linux
mkdir -p "$OUT"
scripts/make-linux-image.sh >/dev/null
gcc -O2 -o "$OUT/stamp" bench/stamp.c
CMD="console=ttyS0 panic=-1 quiet"   # the same for both: the boot log costs exits

# one NAME CMD...: appends the seconds to init's first line to NAME.times
one() {
	local name=$1 t0 pid
	shift
	t0=$(date +%s%N)
	timeout -k 5 "$LIMIT" "$@" 2>"$OUT/$name.err" </dev/null | "$OUT/stamp" >"$OUT/$name.log" || true
	awk -v t0="$t0" '/SHRIKE-INIT/ && !t {t = ($1 - t0) / 1e9}
		END {if (t) printf "%.2f\n", t; else print "stall"}' \
		"$OUT/$name.log" >>"$OUT/$name.times"
}

# the median of the runs that reached init (0.00 if none did)
median() { grep -v stall "$OUT/$1.times" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", NR ? a[int((NR+1)/2)] : 0}'; }

rm -f "$OUT"/init-*.times
S="$BUILD/shrike run --memory 256M --initrd $IMG/initramfs.cpio.gz"
Q="qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot -initrd $IMG/initramfs.cpio.gz"
echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load: $(cut -d' ' -f1-3 /proc/loadavg); kernel $(cat $IMG/kernel-package)"
for i in $(seq "$RUNS"); do
	one init-shrike-pvh $S --kernel "$IMG/vmlinux" --cmdline "$CMD"
	one init-qemu-microvm-pvh $Q -kernel "$IMG/vmlinux" -append "$CMD"
	one init-shrike-protocol $S --kernel "$IMG/bzImage" --kernel-boot protocol --cmdline "$CMD"
	one init-qemu-microvm-bzimage $Q -kernel "$IMG/bzImage" -append "$CMD"
	one init-shrike-pvh-kirq $S --irqchip kernel --kernel "$IMG/vmlinux" --cmdline "$CMD"
	one init-qemu-microvm-pvh-kirq ${Q/-accel kvm/-accel kvm,kernel-irqchip=on} -kernel "$IMG/vmlinux" -append "$CMD"
done
printf "%-26s %s\n" candidate "start to init's first line (median of the runs that reached it; 0.00: none)"
for c in shrike-pvh qemu-microvm-pvh shrike-protocol qemu-microvm-bzimage shrike-pvh-kirq qemu-microvm-pvh-kirq; do
	printf "%-28s %8s s   (%s)\n" "$c" "$(median init-$c)" "$(tr '\n' ' ' <"$OUT/init-$c.times")"
done
awk -v a="$(median init-shrike-pvh)" -v b="$(median init-qemu-microvm-pvh)" \
	'BEGIN { if (b > 0) printf "shrike / QEMU microvm (PVH): %.2f\n", a / b }'
awk -v a="$(median init-shrike-protocol)" -v b="$(median init-qemu-microvm-bzimage)" \
	'BEGIN { if (b > 0) printf "shrike / QEMU microvm (bzImage): %.2f\n", a / b }'
awk -v a="$(median init-shrike-pvh-kirq)" -v b="$(median init-qemu-microvm-pvh-kirq)" \
	'BEGIN { if (b > 0) printf "shrike / QEMU microvm (PVH, irqchip in KVM): %.2f\n", a / b }'
