#!/usr/bin/env bash
# make check: every test, on this host's KVM where /dev/kvm is here; where
# it is missing (or with --nested), the tests that need no KVM run here and
# the rest inside the nested test VM (tests/nested/), whose KVM has hardware
# semantics.  Ends with one "N passed, N failed, N skipped" for all of it.
#   tests/check.sh [--nested] [COMMAND...]     (default COMMAND: tests/run.sh)
set -u
cd "$(dirname "$0")/.."
nested=
[ "${1:-}" = --nested ] && { nested=1; shift; }
[ $# -gt 0 ] || set -- tests/run.sh
if [ -z "$nested" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec "$@"
fi
[ -z "$nested" ] && echo "make check: /dev/kvm is missing here: the tests that need KVM run inside the nested test VM (tests/nested/)"

# Counts the test lines of both parts, passing every line on as it comes;
# the parts' own totals are dropped.
count() {
	local p=0 f=0 s=0 line
	while IFS= read -r line; do
		case "$line" in
		[0-9]*" passed, "[0-9]*" failed"*) continue ;;
		"nested: "*"discarding "*)
			set -- ${line#*discarding }
			p=$((p - $1)) f=$((f - $3)) s=$((s - $5)) ;;
		PASS\ *) p=$((p + 1)) ;;
		FAIL\ *) f=$((f + 1)) ;;
		SKIP\ *) s=$((s + 1)) ;;
		esac
		printf '%s\n' "$line"
	done
	printf '\n%d passed, %d failed, %d skipped\n' $p $f $s
	[ $f -eq 0 ]
}
# One VM per unit of the run (tests/run.sh --list): QEMU's TCG emulating
# AMD-V is not perfect (its guest kernel has locked up under long runs), so
# a VM that crashes or stalls, or a unit with failures, is reported (the
# console's last lines, the failing tests) and the unit runs once more in a
# new VM, what the first counted taken back: TCG also stalls a nested guest
# now and then (a Linux boot stopped mid-line).  A second failure counts
# (FAIL nested_vm for a VM), and the suite goes on.
{
	TESTS_WHERE=host "$@"
	for unit in $(TESTS_WHERE=kvm "$@" --list); do
		# Linux guests in a VM at one CPU: QEMU 7.2's TCG delivers an
		# interrupt KVM injects at VMRUN twice when its round-robin
		# switches CPUs (TCG_DOUBLE_DELIVERY in
		# tests/tools/linux_userspace.py), a guest crash seen in about one
		# Linux boot in five at two CPUs and never at one.
		cpus=()
		[ "$unit" = linux_userspace ] && cpus=(--cpus 1)
		TESTS_WHERE=kvm TESTS_UNITS=$unit tests/nested/run.py --count --retries 1 --retry-failed \
			"${cpus[@]}" --timeout 2400 -- "$@"
	done
} 2>&1 | count
