#!/usr/bin/env bash
# virtio-blk, shrike against QEMU on the same KVM, side by side in one run:
# Debian's kernel with its own virtio_blk driver, 1 vCPU, 512 MiB, a 256 MiB
# raw image of random bytes; in the guest, bench/guest/blkbench.c with
# O_DIRECT: sequential 1 MiB reads and writes (MB/s), 4 KiB random reads at
# queue depth 1 and 32 (IOPS; io_uring in the guest), the mean latency at
# depth 1.  QEMU: -M pc, -device virtio-blk-pci on -drive aio=io_uring,
# cache=writeback (shrike's disks use the host's page cache too).  (On the
# nested test VM's KVM, QEMU's guest stops early in the kernel's boot with
# this set-up, -M pc or microvm with PCIe: see bench/README.md.)  The
# candidates alternate, RUNS times (default 3); medians of the runs that
# finished (a run silent for LIMIT s, default 240, is left out: QEMU's TCG
# sometimes never returns from a nested guest).  Needs a KVM that runs
# guest user space: make bench-nested-blk runs it in the nested test VM.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
LIMIT=${LIMIT:-240}
OUT=$BUILD/bench/blk
IMG=guest-images/linux
mkdir -p "$OUT"
scripts/make-linux-image.sh >/dev/null
gcc -O2 -static -o "$OUT/blkbench" bench/guest/blkbench.c -luring
# The test initramfs and one more archive with the program (the kernel
# unpacks concatenated archives in turn).
rm -rf "$OUT/extra" && mkdir -p "$OUT/extra/bin" && cp "$OUT/blkbench" "$OUT/extra/bin/"
(cd "$OUT/extra" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -n) >"$OUT/extra.cpio.gz"
cat "$IMG/initramfs.cpio.gz" "$OUT/extra.cpio.gz" >"$OUT/initramfs.cpio.gz"
# The image lives in $TMPDIR (else /tmp), not beside the build: in the
# nested test VM the checkout is a 9p share, and every read of an image
# there became a 9p round trip to the outer host (the figures measured 9p).
DISKDIR=$(mktemp -d)
trap 'rm -rf "$DISKDIR"' EXIT
DISK=$DISKDIR/disk.img
dd if=/dev/urandom of="$DISK" bs=1M count=256 status=none
CMD="console=ttyS0 panic=-1 quiet shrike.mode=blkbench shrike.seconds=$SECS"

# one NAME CMD...: the run's BLKBENCH lines appended to NAME.results
one() {
	local name=$1
	shift
	timeout -k 5 "$LIMIT" "$@" </dev/null >"$OUT/$name.log" 2>"$OUT/$name.err" || true
	if grep -q 'BLKBENCH randread-qd32' "$OUT/$name.log"; then
		grep -a BLKBENCH "$OUT/$name.log" | tr -d '\r' >>"$OUT/$name.results"
	else
		echo "  $name: no result (stalled or failed): $(tail -c 200 "$OUT/$name.log" | tr -d '\r' | tr '\n' ' ')"
	fi
}

# median NAME FIGURE
median() {
	awk -v f="$2" '$2 == f {print $3}' "$OUT/$1.results" 2>/dev/null | sort -n |
		awk '{a[NR]=$1} END {printf "%.1f", NR ? a[int((NR+1)/2)] : 0}'
}

rm -f "$OUT"/*.results
echo "machine: $(nproc) CPUs, image on $(stat -f -c %T "$DISKDIR"), $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load: $(cut -d' ' -f1-3 /proc/loadavg); kernel $(cat $IMG/kernel-package); $(qemu-system-x86_64 --version | head -1)"
for i in $(seq "$RUNS"); do
	one shrike "$BUILD/shrike" run --memory 512M --kernel "$IMG/vmlinux" \
		--initrd "$OUT/initramfs.cpio.gz" --disk "$DISK" --cmdline "$CMD" --stats
	one qemu qemu-system-x86_64 -M pc -accel kvm -cpu host -m 512 -smp 1 -nodefaults \
		-no-user-config -nographic -serial stdio -no-reboot -kernel "$IMG/bzImage" \
		-initrd "$OUT/initramfs.cpio.gz" -append "$CMD" \
		-drive id=d0,if=none,file="$DISK",format=raw,aio=io_uring,cache=writeback \
		-device virtio-blk-pci,drive=d0
done
printf "%-16s %12s %12s %8s   (runs: shrike %s, QEMU %s)\n" figure shrike QEMU ratio \
	"$(grep -c seqread "$OUT/shrike.results" 2>/dev/null || echo 0)" \
	"$(grep -c seqread "$OUT/qemu.results" 2>/dev/null || echo 0)"
for f in seqread seqwrite randread-qd1 randread-qd32 latency-qd1; do
	s=$(median shrike $f)
	q=$(median qemu $f)
	unit=$(awk -v f=$f '$2 == f {print $4; exit}' "$OUT/shrike.results" "$OUT/qemu.results" 2>/dev/null)
	# the ratio is shrike's advantage: more is better (for the latency, QEMU's / shrike's)
	awk -v f=$f -v s="$s" -v q="$q" -v u="$unit" 'BEGIN {
		r = (f ~ /latency/) ? (s > 0 ? q / s : 0) : (q > 0 ? s / q : 0)
		printf "%-16s %9s %-4s %9s %-4s %6.2fx\n", f, s, u, q, u, r }'
done
