#!/usr/bin/env bash
# virtio-net, shrike against QEMU on the same KVM, side by side in one run:
# Debian's kernel with its own virtio_net driver, 1 vCPU, 512 MiB, one card
# on a tap in a network namespace of the bench's own (10.0.2.15 <->
# 10.0.2.2).  In the guest (scripts/linux-init, shrike.mode=netbench): the
# mean round trip of 200 adaptive pings, MB MiB (default 256) of TCP to the
# host and MB MiB back (guest/linux/vsockt.c's tcp mode), timed on the host by
# bench/netpeer.py.  Candidates: shrike (its device thread moves the
# frames), QEMU's virtio-net-pci with vhost=off (its main loop moves them)
# and with vhost=on (the kernel's vhost-net: the reference).  They
# alternate, RUNS times (default 3); medians of the runs that finished (a
# run silent for LIMIT s, default 240, is left out).  Needs root, a KVM
# that runs guest user space and /dev/vhost-net: make bench-nested-net runs
# it in the nested test VM.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
MB=${MB:-256}
LIMIT=${LIMIT:-240}
OUT=$BUILD/bench/net
IMG=guest-images/linux
mkdir -p "$OUT"
scripts/make-linux-image.sh >/dev/null
NS=shrike-bench-$$
PORT=$((20000 + RANDOM % 20000))
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null' EXIT
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap vnet_hdr
ip -n "$NS" addr add 10.0.2.2/24 dev tap0
ip -n "$NS" link set tap0 up
CMD="console=ttyS0 panic=-1 quiet shrike.mode=netbench shrike.hostport=$PORT shrike.mb=$MB"

# one NAME VMM...: the run's NETBENCH lines appended to NAME.results
one() {
	local name=$1 peer
	shift
	ip netns exec "$NS" timeout -k 5 "$LIMIT" python3 bench/netpeer.py "$PORT" "$MB" "$LIMIT" \
		>"$OUT/$name.peer" 2>&1 &
	peer=$!
	while ! grep -q ready "$OUT/$name.peer" 2>/dev/null; do sleep 0.1; done
	ip netns exec "$NS" timeout -k 5 "$LIMIT" "$@" </dev/null >"$OUT/$name.log" 2>"$OUT/$name.err" || true
	wait "$peer" || true
	if grep -q h2g "$OUT/$name.peer" && grep -q 'NETBENCH rtt [0-9]' "$OUT/$name.log"; then
		{ grep -a NETBENCH "$OUT/$name.peer"; grep -a 'NETBENCH rtt' "$OUT/$name.log"; } |
			tr -d '\r' >>"$OUT/$name.results"
	else
		echo "  $name: no result: $(tail -c 200 "$OUT/$name.peer" | tr '\n' ' ') $(tail -c 200 "$OUT/$name.log" | tr -d '\r' | tr '\n' ' ')"
	fi
}

# median NAME FIGURE
median() {
	awk -v f="$2" '$2 == f {print $3}' "$OUT/$1.results" 2>/dev/null | sort -n |
		awk '{a[NR]=$1} END {printf "%.3f", NR ? a[int((NR+1)/2)] : 0}'
}

rm -f "$OUT"/*.results
echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load: $(cut -d' ' -f1-3 /proc/loadavg); kernel $(cat $IMG/kernel-package); $(qemu-system-x86_64 --version | head -1); $MB MiB each way"
QEMU_ARGS=(-M pc -accel kvm -cpu host -m 512 -smp 1 -nodefaults -no-user-config -nographic
	-serial stdio -no-reboot -kernel "$IMG/bzImage" -initrd "$IMG/initramfs.cpio.gz"
	-append "$CMD" -device virtio-net-pci,netdev=n0)
for i in $(seq "$RUNS"); do
	one shrike "$BUILD/shrike" run --memory 512M --kernel "$IMG/vmlinux" \
		--initrd "$IMG/initramfs.cpio.gz" --cmdline "$CMD" --net tap:tap0 --stats
	one qemu-vhost-off qemu-system-x86_64 "${QEMU_ARGS[@]}" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off
	one qemu-vhost-on qemu-system-x86_64 "${QEMU_ARGS[@]}" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on
done
printf "%-6s %14s %16s %16s %12s %12s\n" figure shrike qemu-vhost-off qemu-vhost-on vs-off vs-on
for f in g2h h2g rtt; do
	s=$(median shrike $f)
	o=$(median qemu-vhost-off $f)
	v=$(median qemu-vhost-on $f)
	# ratios are shrike's advantage: more is better (for the round trip, theirs / shrike's)
	awk -v f=$f -v s="$s" -v o="$o" -v v="$v" 'BEGIN {
		u = (f == "rtt") ? "ms" : "MB/s"
		ro = (f == "rtt") ? (s > 0 ? o / s : 0) : (o > 0 ? s / o : 0)
		rv = (f == "rtt") ? (s > 0 ? v / s : 0) : (v > 0 ? s / v : 0)
		printf "%-6s %9s %-4s %11s %-4s %11s %-4s %11.2fx %11.2fx\n", f, s, u, o, u, v, u, ro, rv }'
done
