#!/usr/bin/env bash
# vsock throughput, shrike against QEMU on the same KVM, side by side in one
# run: Debian's kernel with its own virtio-vsock driver, 1 vCPU, 512 MiB;
# MB MiB (default 256) host -> guest (the host streams into the guest's
# sink, timed until the sink closes) and guest -> host (the guest's dd of
# zeros through bench's vsockt, timed on the host), bench/vsockpeer.py on
# the host.  Candidates: shrike's own host side (--vsock uds=, Unix
# sockets), shrike with the kernel's vhost-vsock, and QEMU's
# vhost-vsock-pci (-M pc).  They alternate, RUNS times (default 3);
# medians of the runs that finished (a run silent for LIMIT s, default
# 240, is left out).  Needs a KVM that runs guest user space and
# /dev/vhost-vsock: make bench-nested-vsock runs it in the nested test VM.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
MB=${MB:-256}
LIMIT=${LIMIT:-240}
OUT=$BUILD/bench/vsock
IMG=guest-images/linux
mkdir -p "$OUT"
scripts/make-linux-image.sh >/dev/null
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
CID=$((1000 + RANDOM * 32 + RANDOM % 32))
PORT=$((20000 + RANDOM % 20000))
CMD="console=ttyS0 panic=-1 quiet shrike.mode=vsockbench shrike.hostport=$PORT shrike.mb=$MB"

# one NAME TARGET VMM...: the run's VSOCKBENCH lines appended to NAME.results
one() {
	local name=$1 target=$2 pid
	shift 2
	rm -f "$TMPD/console"
	touch "$TMPD/console"
	timeout -k 5 "$LIMIT" "$@" </dev/null >"$OUT/$name.err" 2>&1 &
	pid=$!
	if timeout -k 5 "$LIMIT" python3 bench/vsockpeer.py "$target" "$PORT" "$MB" "$TMPD/console" \
		"$LIMIT" >"$OUT/$name.run" 2>&1 && grep -q g2h "$OUT/$name.run"; then
		cat "$OUT/$name.run" >>"$OUT/$name.results"
	else
		echo "  $name: no result: $(tail -c 200 "$OUT/$name.run" | tr '\n' ' ') $(tail -c 200 "$TMPD/console" | tr -d '\r' | tr '\n' ' ')"
	fi
	wait "$pid" || true
}

# median NAME FIGURE
median() {
	awk -v f="$2" '$2 == f {print $3}' "$OUT/$1.results" 2>/dev/null | sort -n |
		awk '{a[NR]=$1} END {printf "%.1f", NR ? a[int((NR+1)/2)] : 0}'
}

rm -f "$OUT"/*.results
echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load: $(cut -d' ' -f1-3 /proc/loadavg); kernel $(cat $IMG/kernel-package); $(qemu-system-x86_64 --version | head -1); $MB MiB each way"
SHRIKE_ARGS=(run --memory 512M --kernel "$IMG/vmlinux" --initrd "$IMG/initramfs.cpio.gz"
	--cmdline "$CMD" --serial "file:$TMPD/console")
for i in $(seq "$RUNS"); do
	one shrike-uds "uds:$TMPD/v.sock" "$BUILD/shrike" "${SHRIKE_ARGS[@]}" \
		--vsock "cid=$CID,uds=$TMPD/v.sock"
	one shrike-vhost "cid:$CID" "$BUILD/shrike" "${SHRIKE_ARGS[@]}" --vsock "cid=$CID"
	one qemu-vhost "cid:$CID" qemu-system-x86_64 -M pc -accel kvm -cpu host -m 512 -smp 1 \
		-nodefaults -no-user-config -display none -serial "file:$TMPD/console" -no-reboot \
		-kernel "$IMG/bzImage" -initrd "$IMG/initramfs.cpio.gz" -append "$CMD" \
		-device "vhost-vsock-pci,guest-cid=$CID"
done
printf "%-8s %14s %14s %14s %10s %10s\n" figure shrike-uds shrike-vhost qemu-vhost uds/qemu vhost/qemu
for f in h2g g2h; do
	u=$(median shrike-uds $f)
	v=$(median shrike-vhost $f)
	q=$(median qemu-vhost $f)
	awk -v f=$f -v u="$u" -v v="$v" -v q="$q" 'BEGIN {
		printf "%-8s %9s MB/s %9s MB/s %9s MB/s %9.2fx %9.2fx\n", f, u, v, q,
			(q > 0 ? u / q : 0), (q > 0 ? v / q : 0) }'
done
