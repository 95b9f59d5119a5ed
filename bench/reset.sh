#!/usr/bin/env bash
# Reset cycle of the same multiboot kernel (build/guest/resetloop.elf:
# print MARK, triple-fault) under shrike, QEMU -M microvm and QEMU -M pc,
# alternated; a cycle is the time between two MARK lines, timestamped on
# the host as they arrive.  shrike also reports its own request-to-resume
# time (--stats).
#   RUNS=3 SECS=3 PC_SECS=12 bench/reset.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
SECS=${SECS:-3}
PC_SECS=${PC_SECS:-12}
OUT=$BUILD/bench
K=$BUILD/guest/resetloop.elf
mkdir -p "$OUT"
gcc -O2 -o "$OUT/stamp" bench/stamp.c
command -v qemu-system-x86_64 >/dev/null || apt-get install -y -q qemu-system-x86 >/dev/null

# cycles NAME SECONDS CMD...: appends the MARK-to-MARK times (ns) to NAME.times
cycles() {
	local name=$1 secs=$2 pid
	shift 2
	# The VMM's own pid (not the pipeline's), so that only it is stopped.
	"$@" 2>"$OUT/$name.err" > >("$OUT/stamp" >"$OUT/$name.log") &
	pid=$!
	sleep "$secs"
	kill -TERM $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	sleep 0.2
	grep ' MARK' "$OUT/$name.log" | awk 'NR > 1 {print $1 - prev} {prev = $1}' >>"$OUT/$name.times"
}

median_ms() { sort -n "$OUT/$1.times" | awk '{a[NR]=$1} END {if (NR) printf "%.2f ms (%d cycles)", a[int((NR+1)/2)]/1e6, NR; else print "no cycles"}'; }

rm -f "$OUT"/reset-*.times
QEMU="qemu-system-x86_64 -accel kvm -m 256 -display none -nodefaults -no-user-config -serial stdio"
echo "machine: $(nproc) CPUs, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$RUNS"); do
	cycles reset-shrike "$SECS" "$BUILD/shrike" run --kernel "$K" --stats
	grep 'resets:' "$OUT/reset-shrike.err" | sed 's/.*resets: /  shrike request to resume: /' || true
	cycles reset-microvm "$SECS" $QEMU -M microvm -kernel "$K"
	cycles reset-pc "$PC_SECS" $QEMU -M pc -kernel "$K"
done
echo "reset cycle, median MARK to MARK: shrike $(median_ms reset-shrike); QEMU microvm $(median_ms reset-microvm); QEMU pc $(median_ms reset-pc)"
