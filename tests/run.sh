#!/usr/bin/env bash
# Runs every test of shrike and ends with "N passed, N failed, N skipped".
#   BUILD=build (default) or build-asan (make check-asan)
# Tests that need /dev/kvm are skipped, with the reason, where it is absent.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
SHRIKE=$BUILD/shrike
K=$BUILD/guest
TMP=$(mktemp -d /tmp/shrike-tests.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0 skipped=0

# NAME_SUFFIX tells the runs with KVM's irqchip apart (below).
NAME_SUFFIX=
pass() { echo "PASS $1$NAME_SUFFIX"; passed=$((passed + 1)); }
fail() { echo "FAIL $1$NAME_SUFFIX: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1$NAME_SUFFIX: $2"; skipped=$((skipped + 1)); }

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
have_python() { command -v python3 >/dev/null 2>&1; }

# need_kvm_python NAME: true when KVM and python3 are both here; otherwise
# NAME is skipped with the reason.
need_kvm_python() {
	if ! have_kvm; then
		skip "$1" "$NO_KVM_REASON"
		return 1
	fi
	if ! have_python; then
		skip "$1" "python3 is not installed"
		return 1
	fi
}

# QEMU, for the side-by-side comparisons: installed from Debian when
# missing and we are root; otherwise those comparisons are skipped.
find_qemu() {
	if ! command -v qemu-system-x86_64 >/dev/null && [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			qemu-system-x86 >"$TMP/apt.log" 2>&1 || true
	fi
	command -v qemu-system-x86_64 || true
}
NO_KVM_REASON="/dev/kvm is not available here"

# Counts the PASS/FAIL/SKIP lines of a C test program.
run_c_test() {
	local bin=$1 line
	if [ ! -x "$bin" ]; then fail "$(basename "$bin")" "not built"; return; fi
	timeout -k 5 600 "$bin" >"$TMP/c.out" 2>"$TMP/c.err"
	local rc=$?
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) pass "${line#PASS }" ;;
		FAIL\ *) n=${line#FAIL }; fail "${n%%:*}" "${n#*: }" ;;
		SKIP\ *) n=${line#SKIP }; skip "${n%%:*}" "${n#*: }" ;;
		esac
	done <"$TMP/c.out"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$TMP/c.out"; then
		fail "$(basename "$bin")" "exited with $rc: $(tail -3 "$TMP/c.err" | tr '\n' ' ')"
	fi
	if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer|ThreadSanitizer' "$TMP/c.err"; then
		fail "$(basename "$bin")" "sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$TMP/c.err")"
	fi
}

# Counts the PASS/FAIL/SKIP lines of a Python test script (python3 SCRIPT ARGS).
run_py_test() {
	local name=$1 line n
	shift
	timeout -k 5 "${PY_TEST_SECONDS:-900}" python3 "$@" >"$TMP/py.out" 2>"$TMP/py.err"
	local rc=$?
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) pass "${line#PASS }" ;;
		FAIL\ *) n=${line#FAIL }; fail "${n%%:*}" "${n#*: }" ;;
		SKIP\ *) n=${line#SKIP }; skip "${n%%:*}" "${n#*: }" ;;
		"  "*) echo "$line" ;;
		esac
	done <"$TMP/py.out"
	if [ $rc -ne 0 ]; then
		fail "$name" "exited with $rc: $(tail -3 "$TMP/py.err" | tr '\n' ' ')"
	fi
}

# Time limits are written for a KVM whose exits cost about 10 us; SCALE
# stretches them where one costs more (a nested KVM: 50-100 us), measured
# once with the backdoor loop kernel.  SHRIKE_TEST_SCALE=N overrides it.
measure_scale() {
	local t0 t1 t2 us
	SCALE=${SHRIKE_TEST_SCALE:-}
	[ -n "$SCALE" ] && return
	SCALE=1
	have_kvm && [ -f "$K/bdloop.elf" ] || return 0
	t0=$(date +%s%N)
	"$SHRIKE" run --kernel "$K/bdloop.elf" --cmdline calls=0 --serial none </dev/null >/dev/null 2>&1
	t1=$(date +%s%N)
	"$SHRIKE" run --kernel "$K/bdloop.elf" --cmdline calls=20000 --serial none </dev/null >/dev/null 2>&1
	t2=$(date +%s%N)
	us=$((((t2 - t1) - (t1 - t0)) / 20000000))
	SCALE=$(((us + 9) / 10))
	[ "$SCALE" -ge 1 ] || SCALE=1
	[ "$SCALE" -le 20 ] || SCALE=20
	echo "time limits x$SCALE (a backdoor call costs ${us} us here)"
}
# limit SECONDS: a time limit, stretched for this KVM.
limit() { echo $(($1 * SCALE)); }

# run_vm SECONDS ARGS...: runs shrike with a hard time limit (stretched by
# SCALE); sets $status.  stdout -> $TMP/out, stderr -> $TMP/err.
run_vm() {
	local t=$1
	shift
	timeout -k 5 "$(limit "$t")" "$SHRIKE" run "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
}

# end_by_sigterm PID: SIGTERM to a shrike started in the background, then
# up to 10 s (stretched) for it to end; sets $status.  Returns 1 if it did
# not (it is killed then).
end_by_sigterm() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq $((10 * $(limit 10)))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		wait "$pid"
		return 1
	fi
	wait "$pid"
	status=$?
}

# A run that must not end in a crash, a hang of the VMM or a sanitizer
# report.  Returns 1 (and records a failure) if it did.
vmm_healthy() {
	local name=$1
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		fail "$name" "shrike did not finish in time"; return 1
	fi
	if [ "$status" -gt 128 ]; then
		fail "$name" "shrike died with status $status"; return 1
	fi
	if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer|ThreadSanitizer' "$TMP/err"; then
		fail "$name" "sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$TMP/err")"; return 1
	fi
	return 0
}

# expect NAME STATUS [PATTERN-IN-STDOUT...]
expect() {
	local name=$1 want=$2 p
	shift 2
	vmm_healthy "$name" || return 1
	if [ "$status" -ne "$want" ]; then
		fail "$name" "exit status $status, expected $want; stderr: $(tail -2 "$TMP/err" | tr '\n' ' '); output: $(tail -c 300 "$TMP/out" 2>/dev/null | tail -2 | tr '\n' ' ')"
		return 1
	fi
	for p in "$@"; do
		if ! grep -qF -- "$p" "$TMP/out"; then
			fail "$name" "output lacks '$p'"
			return 1
		fi
	done
	pass "$name"
}

for f in tests/suites/*.sh; do
	# shellcheck source=/dev/null
	. "$f"
done

# TESTS_WHERE: where /dev/kvm is missing, tests/check.sh runs the tests that
# need no KVM on this host ("host": the unit tests, fuzzing, which compiles,
# and QEMU's reference runs) and the rest inside the nested test VM ("kvm");
# unset, all.
WHERE=${TESTS_WHERE:-all}
runs_here() {   # runs_here host|kvm|both: does this run include that part?
	[ "$WHERE" = all ] || [ "$1" = both ] || [ "$WHERE" = "$1" ]
}
HOST_SUITES="fuzz qemu_reference linux_image"

# The run is a list of units: c_tests, each suite, kernel_irqchip.
#   TESTS_UNITS="state reset"  exactly those
#   SUITES_ONLY="linux reset"  those suites (and, for make check-tsan, the
#                              state engine's C tests)
#   tests/run.sh --list        the units this run would do, one a line
# (tests/check.sh starts a nested test VM per unit: a VM that stalls costs
# one unit, and the suite goes on.)
unit_part() {
	case "$1" in
	c_tests) echo both ;;
	c_tests_tsan | kernel_irqchip) echo kvm ;;
	*) case " $HOST_SUITES " in *" $1 "*) echo host ;; *) echo kvm ;; esac ;;
	esac
}
if [ -n "${TESTS_UNITS:-}" ]; then
	UNITS=$TESTS_UNITS
elif [ -n "${SUITES_ONLY:-}" ]; then
	UNITS="${TSAN:+c_tests_tsan} $SUITES_ONLY"
else
	UNITS="c_tests $SUITES kernel_irqchip"
fi
if [ "${1:-}" = --list ]; then
	for u in $UNITS; do runs_here "$(unit_part "$u")" && echo "$u"; done
	exit 0
fi

# The C tests of tests/unit/ need no KVM; those of tests/host/ do.  With
# them, on the host: every include of src/ follows the layer rule.
unit_c_tests() {
	local t part
	if runs_here host; then
		if scripts/check-layers.sh >"$TMP/layers.out" 2>&1; then
			pass layers_follow_the_rule
		else
			fail layers_follow_the_rule "$(head -3 "$TMP/layers.out" | tr '\n' ' ')"
		fi
	fi
	for t in "$BUILD"/tests/*_test; do
		[ -f "tests/unit/$(basename "$t").c" ] && part=host || part=kvm
		runs_here $part && run_c_test "$t"
	done
}

# make check-tsan: the in-process state-engine tests (several vCPU threads,
# work queues, pauses) besides the suites.
unit_c_tests_tsan() {
	run_c_test "$BUILD/tests/state_test"
}

# The guest tests again with KVM's PIC, IOAPIC and PIT (--irqchip kernel):
# nothing may change for a guest between the two (issue 12).
unit_kernel_irqchip() {
	local t suite
	have_kvm || return 0
	REAL_SHRIKE=$SHRIKE
	SHRIKE=$TMP/shrike-irqchip-kernel
	printf '#!/bin/sh\nif [ "$1" = run ]; then shift; exec "%s" run --irqchip kernel "$@"; fi\nexec "%s" "$@"\n' \
		"$PWD/$REAL_SHRIKE" "$PWD/$REAL_SHRIKE" >"$SHRIKE"
	chmod +x "$SHRIKE"
	NAME_SUFFIX=@kernel-irqchip
	for t in "$BUILD"/tests/state_test "$BUILD"/tests/snapshot_test; do
		SHRIKE_TEST_IRQCHIP=kernel run_c_test "$t"
	done
	for suite in foundation state devices reset; do
		"suite_$suite"
	done
	SHRIKE=$REAL_SHRIKE
	NAME_SUFFIX=
}

SCALE=1
runs_here kvm && measure_scale
STARTED=$(date +%s)
for unit in $UNITS; do
	runs_here "$(unit_part "$unit")" || continue
	echo "$unit (at $(($(date +%s) - STARTED)) s)"
	if declare -F "unit_$unit" >/dev/null; then "unit_$unit"; else "suite_$unit"; fi
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
