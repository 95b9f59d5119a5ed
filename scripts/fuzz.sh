#!/bin/sh
# Builds the libFuzzer targets (fuzz/*.c) with clang into build-fuzz/, makes
# their seed corpora from the build (tests/tools/fuzz_seeds.py), and runs
# each for FUZZ_SECONDS.  Prints PASS/FAIL/SKIP lines (tests/run.sh counts
# them); a crash leaves its input in build-fuzz/crashes/.
#   FUZZ_SECONDS=60 scripts/fuzz.sh        (make fuzz)
set -u
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
OUT=build-fuzz
CLANG=
for c in clang clang-16 clang-15 clang-14; do
	command -v "$c" >/dev/null && { CLANG=$c; break; }
done
if [ -z "$CLANG" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang \
		libclang-rt-dev >/dev/null 2>&1 ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang \
		libclang-rt-14-dev >/dev/null 2>&1
	command -v clang >/dev/null && CLANG=clang
fi
if [ -z "$CLANG" ]; then
	echo "SKIP fuzz_targets: clang is not installed (apt-get install clang libclang-rt-14-dev)"
	exit 0
fi
if ! make --no-print-directory BUILD=$OUT FUZZ=1 CC="$CLANG" fuzz-bins >$OUT.log 2>&1; then
	echo "FAIL fuzz_build: $(grep -m1 -E 'error' $OUT.log || tail -1 $OUT.log)"
	exit 0
fi
python3 tests/tools/fuzz_seeds.py build "$OUT/corpus" || echo "  (no seed corpora)"
mkdir -p "$OUT/crashes"
for bin in "$OUT"/fuzz/*; do
	case "$bin" in *.d) continue ;; esac
	t=$(basename "$bin")
	mkdir -p "$OUT/corpus/$t"
	"$bin" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$OUT/crashes/$t-" "$OUT/corpus/$t" >"$OUT/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log")
	if [ $rc -eq 0 ]; then
		echo "PASS fuzz_$t: ${runs:-?} inputs in ${SECS}s"
	else
		echo "FAIL fuzz_$t: $(grep -m1 -E 'ERROR|SUMMARY|runtime error' "$OUT/$t.log"); input in $OUT/crashes/"
	fi
done
