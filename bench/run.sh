#!/usr/bin/env bash
# shrike's benchmarks (see bench/README.md).  Every comparison runs its
# candidates alternately in one call and reports medians and their ratio.
#   RUNS=5 N=200000 bench/run.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${N:-200000}
OUT=$BUILD/bench
mkdir -p "$OUT"

[ -w /dev/kvm ] || { echo "bench: /dev/kvm is not available"; exit 1; }
gcc -O2 -o "$OUT/bare_pio" bench/bare_pio.c
for mode in 0 1 2 3; do
	for n in 0 "$N"; do
		gcc -c -o "$OUT/loop-$mode-$n.o" -Wa,--defsym,MODE=$mode -Wa,--defsym,N=$n bench/guest/loop.S
		ld -Ttext=0 --oformat=binary -o "$OUT/loop-$mode-$n.bin" "$OUT/loop-$mode-$n.o"
	done
done

# wall NAME CMD...: one run's wall time in ns, appended to $OUT/NAME.times
wall() {
	local name=$1 t0 t1 rc
	shift
	t0=$(date +%s%N)
	set +e
	"$@" >/dev/null 2>"$OUT/last.err"
	rc=$?
	set -e
	t1=$(date +%s%N)
	if [ $rc -ne 33 ]; then
		echo "bench: $name ended with $rc: $(cat "$OUT/last.err")" >&2
		exit 1
	fi
	echo $((t1 - t0)) >>"$OUT/$name.times"
}

median() { sort -n "$OUT/$1.times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

shrike_run() { "$BUILD/shrike" run --kernel-format flat --kernel "$@"; }

# ioctls per call: from --stats, (ioctls at N - ioctls at 0) / N.
ioctls() {
	local mode=$1 sync=$2 a b
	a=$(shrike_run "$OUT/loop-$mode-$N.bin" --sync "$sync" --stats 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) ioctls/\1/p')
	b=$(shrike_run "$OUT/loop-$mode-0.bin" --sync "$sync" --stats 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) ioctls/\1/p')
	awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN {printf "%.2f", (a - b) / n}'
}

rm -f "$OUT"/*.times
echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "method: wall time of whole processes, $RUNS runs each, candidates alternated; per exit = (median at N - median at 0) / N, N = $N"
for i in $(seq "$RUNS"); do
	for n in 0 "$N"; do
		wall "bare-$n" "$OUT/bare_pio" "$OUT/loop-0-$n.bin"
		wall "out-$n" shrike_run "$OUT/loop-0-$n.bin"
		wall "in-$n" shrike_run "$OUT/loop-1-$n.bin"
		wall "bd-lazy-$n" shrike_run "$OUT/loop-2-$n.bin" --sync lazy
		wall "bd-full-$n" shrike_run "$OUT/loop-2-$n.bin" --sync full
		wall "emu-$n" shrike_run "$OUT/loop-3-$n.bin"
	done
done

per_exit() { awk -v a="$(median "$1-$N")" -v b="$(median "$1-0")" -v n="$N" 'BEGIN {printf "%.0f", (a - b) / n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

bare=$(per_exit bare); out=$(per_exit out); in=$(per_exit in)
lazy=$(per_exit bd-lazy); full=$(per_exit bd-full); emu=$(per_exit emu)
echo
echo "port-I/O exit (out to unassigned port 0xe0)"
echo "  bare KVM_RUN loop            $bare ns"
echo "  shrike, full dispatch        $out ns   ratio to bare $(ratio "$out" "$bare")"
echo
echo "VMware backdoor GETVERSION versus a plain exit with the same register loads (in from 0xe0: $in ns)"
echo "  lazy: $lazy ns per call, ratio $(ratio "$lazy" "$in"), extra ioctls per call $(awk -v x="$(ioctls 2 lazy)" 'BEGIN{printf "%.2f", x-1}')"
echo "  full: $full ns per call, ratio $(ratio "$full" "$in"), extra ioctls per call $(awk -v x="$(ioctls 2 full)" 'BEGIN{printf "%.2f", x-1}')"
echo
echo "an instruction KVM's emulator cannot run (popcnt), completed by shrike, against a plain exit (in: $in ns)"
echo "  $emu ns per instruction, ratio $(ratio "$emu" "$in"), extra ioctls per instruction $(awk -v x="$(ioctls 3 lazy)" 'BEGIN{printf "%.2f", x-1}')"
bench/vs_qemu.sh
bench/reset.sh
