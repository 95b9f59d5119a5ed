#!/usr/bin/env bash
# Debian's cloud kernel on a KVM back-end that emulates kernel code (issue
# 13): shrike completes the instructions KVM's emulator gives up on, with the
# guest profile --linux-profile emulated.  Runs until "Run /init" (or the
# kernel's end, or LIMIT seconds), timestamps each milestone as it arrives,
# and records how far it got and which instructions shrike completed.
#   LIMIT=3600 CPUS=1 INITRD=gz|cpio bench/linux-emulated.sh
# Takes a quarter of an hour or more here: not part of make check.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LIMIT=${LIMIT:-3600}
CPUS=${CPUS:-1}
OUT=$BUILD/bench
IMG=guest-images/linux
mkdir -p "$OUT"
scripts/make-linux-image.sh >/dev/null
gcc -O2 -o "$OUT/stamp" bench/stamp.c
INITRD=$IMG/initramfs.cpio.gz
if [ "${INITRD_FORM:-gz}" = cpio ]; then
	gzip -dc "$IMG/initramfs.cpio.gz" >"$OUT/initramfs.cpio"
	INITRD=$OUT/initramfs.cpio
fi
LOG=$OUT/linux-emulated.log
ERR=$OUT/linux-emulated.err
MILESTONES="Linux version|Memory: .*available|x87 FPU will use|smpboot: Total of|clocksource: Switched to clocksource kvm-clock|Trying to unpack rootfs|Freeing initrd memory|Loading compiled-in X.509|evm: HMAC attrs|Freeing unused kernel|Run /init|Kernel panic|INIT-REACHED"

t0=$(date +%s%N)
"$BUILD/shrike" run --kernel "$IMG/vmlinux" --initrd "$INITRD" --cpus "$CPUS" --memory 256M \
	--linux-profile emulated --stats \
	--cmdline "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1 loglevel=8 ${EXTRA:-}" \
	</dev/null 2>"$ERR" > >("$OUT/stamp" >"$LOG") &
pid=$!
end=$((SECONDS + LIMIT))
while kill -0 $pid 2>/dev/null && [ $SECONDS -lt $end ]; do
	grep -qE "Run /init|Kernel panic" "$LOG" 2>/dev/null && { sleep 5; break; }
	sleep 1
done
kill -TERM $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
sleep 0.5
echo "machine: $(nproc) CPUs, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg); kernel $(cat $IMG/kernel-package)"
echo "profile: $("$BUILD/shrike" run --help 2>/dev/null | grep -c linux-profile) (--linux-profile emulated), $CPUS vCPU(s), 256 MiB, initrd $(basename "$INITRD")"
echo "milestones (seconds from start):"
grep -E "$MILESTONES" "$LOG" | awk -v t0="$t0" '{t = ($1 - t0) / 1e9; $1 = ""; printf "  %8.1f %s\n", t, $0}' | cut -c1-150
echo "last line: $(tail -1 "$LOG" | cut -d' ' -f2- | cut -c1-120)"
grep -E "emulated by shrike|stopped by|KVM internal error" "$ERR" | sed 's/^/  /' || true
