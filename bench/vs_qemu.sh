#!/usr/bin/env bash
# One VMware backdoor call in shrike and in QEMU (-M pc -accel kvm), same
# multiboot test kernel (build/guest/bdloop.elf), alternated in one run.
# Per call = (median wall at N calls - median wall at 0) / N.  ioctls per
# call are counted with strace -f -c for both.
#   RUNS=5 N=20000 bench/vs_qemu.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${N:-20000}
NS=${NS:-1000}
OUT=$BUILD/bench
K=$PWD/$BUILD/guest/bdloop.elf
export SHRIKE=$PWD/$BUILD/shrike K
mkdir -p "$OUT"
[ -w /dev/kvm ] || { echo "bench: /dev/kvm is not available"; exit 1; }
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v strace >/dev/null; then
	echo "bench: installing qemu-system-x86 and strace from Debian's packages"
	apt-get install -y -q qemu-system-x86 strace >/dev/null
fi

shrike_cmd() { "$SHRIKE" run --kernel "$K" --cmdline "calls=$1" --serial none; }
qemu_cmd() {
	qemu-system-x86_64 -M pc -accel kvm -m 256 -display none -nodefaults -no-user-config \
		-kernel "$K" -append "calls=$1" -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null
}

wall() {
	local name=$1 t0 t1 rc
	shift
	t0=$(date +%s%N)
	set +e
	"$@" >/dev/null 2>&1
	rc=$?
	set -e
	t1=$(date +%s%N)
	[ $rc -eq 33 ] || { echo "bench: $name ended with $rc" >&2; exit 1; }
	echo $((t1 - t0)) >>"$OUT/$name.times"
}

median() { sort -n "$OUT/$1.times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
per_call() { awk -v a="$(median "$1-$N")" -v b="$(median "$1-0")" -v n="$N" 'BEGIN {printf "%.0f", (a - b) / n}'; }

# ioctls WHO: strace -c over a run with NS calls and one with none.
ioctls() {
	local f=$OUT/strace.txt a b
	set +e
	strace -f -c -e trace=ioctl -o "$f" bash -c "$(declare -f "${1}_cmd"); ${1}_cmd $NS" >/dev/null 2>&1
	a=$(awk '$NF == "ioctl" {print $4}' "$f")
	strace -f -c -e trace=ioctl -o "$f" bash -c "$(declare -f "${1}_cmd"); ${1}_cmd 0" >/dev/null 2>&1
	b=$(awk '$NF == "ioctl" {print $4}' "$f")
	set -e
	awk -v a="$a" -v b="$b" -v n="$NS" 'BEGIN {printf "%.2f", (a - b) / n}'
}

rm -f "$OUT"/shrike-*.times "$OUT"/qemu-*.times
echo "machine: $(nproc) CPUs, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg); $(qemu-system-x86_64 --version | head -1)"
echo "method: $RUNS alternated runs each; per call = (median wall at N=$N - median at 0) / N"
for i in $(seq "$RUNS"); do
	for n in 0 "$N"; do
		wall "shrike-$n" shrike_cmd "$n"
		wall "qemu-$n" qemu_cmd "$n"
	done
done
s=$(per_call shrike); q=$(per_call qemu)
echo "backdoor GETVERSION per call: shrike $s ns, QEMU $q ns, QEMU / shrike $(awk -v a="$q" -v b="$s" 'BEGIN {printf "%.2f", a / b}')"
echo "ioctls per call (strace, N=$NS, including KVM_RUN): shrike $(ioctls shrike), QEMU $(ioctls qemu)"
