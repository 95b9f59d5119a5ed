#!/usr/bin/env bash
# Time from process start to the Debian kernel's first line ("Linux version") and to
# its "smpboot: Allowing N CPUs" line, same kernel and initramfs, 1 vCPU,
# 256 MiB:
#   shrike: bzImage through the boot protocol, vmlinux through PVH, bzImage
#           decompressed on the host (cache warm) then PVH
#   QEMU -M microvm and -M pc: bzImage and vmlinux (PVH)
# Each candidate runs until the "Allowing" line (or its end), then is
# stopped; lines are timestamped on the host as they arrive.  Medians of
# RUNS runs (default 1: a bzImage run takes about 90 s on kvm_pvm).
# Also shrike's own memory beyond the guest's pages (--stats).
# SLOW=0 leaves out the candidates that run the kernel's own decompressor
# (about 90 s each here), for more runs of the others.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-1}
OUT=$BUILD/bench
IMG=guest-images/linux
mkdir -p "$OUT"
scripts/make-linux-image.sh >/dev/null
gcc -O2 -o "$OUT/stamp" bench/stamp.c
command -v qemu-system-x86_64 >/dev/null || apt-get install -y -q qemu-system-x86 >/dev/null
CMD="console=ttyS0 earlyprintk=serial,ttyS0 panic=-1"
export XDG_CACHE_HOME=$OUT/cache

# one NAME CMD...: appends "first allowing" seconds to NAME.times
one() {
	local name=$1 t0 pid i
	shift
	t0=$(date +%s%N)
	"$@" 2>"$OUT/$name.err" </dev/null > >("$OUT/stamp" >"$OUT/$name.log") &
	pid=$!
	for i in $(seq 3000); do
		grep -q "Allowing" "$OUT/$name.log" 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	# QEMU stays alive (paused) after an emulation failure: stop it.
	kill -TERM $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	sleep 0.2
	awk -v t0="$t0" '/Linux version/ && !first {first = ($1 - t0) / 1e9}
		/Allowing/ && !allow {allow = ($1 - t0) / 1e9}
		END {printf "%.2f %.2f\n", first, allow}' "$OUT/$name.log" >>"$OUT/$name.times"
}

median() { sort -n -k"$2" "$OUT/$1.times" | awk -v k="$2" '{a[NR]=$k} END {printf "%.2f", a[int((NR+1)/2)]}'; }

rm -f "$OUT"/linux-*.times
S="$BUILD/shrike run --memory 256M --initrd $IMG/initramfs.cpio.gz --stats"
Q="qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities -m 256 -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot -initrd $IMG/initramfs.cpio.gz"
$BUILD/shrike run --memory 256M --kernel "$IMG/bzImage" --serial none >/dev/null 2>&1 & sleep 2; kill $! 2>/dev/null; wait  # warm the cache
echo "machine: $(nproc) CPUs, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg); kernel $(cat $IMG/kernel-package)"
for i in $(seq "$RUNS"); do
	one linux-shrike-pvh $S --kernel "$IMG/vmlinux" --cmdline "$CMD"
	grep 'memory:' "$OUT/linux-shrike-pvh.err" | sed 's/.*stats: /  shrike vmlinux: /' || true
	one linux-shrike-hostdecomp $S --kernel "$IMG/bzImage" --cmdline "$CMD"
	one linux-qemu-microvm-vmlinux $Q -M microvm -kernel "$IMG/vmlinux" -append "$CMD"
	one linux-qemu-pc-vmlinux $Q -M pc -kernel "$IMG/vmlinux" -append "$CMD"
	[ "${SLOW:-1}" = 1 ] || continue
	one linux-shrike-protocol $S --kernel "$IMG/bzImage" --kernel-boot protocol --cmdline "$CMD"
	one linux-qemu-microvm-bzimage $Q -M microvm -kernel "$IMG/bzImage" -append "$CMD"
	one linux-qemu-pc-bzimage $Q -M pc -kernel "$IMG/bzImage" -append "$CMD"
done
printf "%-28s %12s %16s\n" candidate "first line" "Allowing N CPUs"
for c in shrike-protocol shrike-pvh shrike-hostdecomp qemu-microvm-vmlinux qemu-pc-vmlinux \
	qemu-microvm-bzimage qemu-pc-bzimage; do
	[ -s "$OUT/linux-$c.times" ] || continue
	printf "%-28s %10s s %14s s\n" "$c" "$(median linux-$c 1)" "$(median linux-$c 2)"
done
