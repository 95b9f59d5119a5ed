# The control socket (QMP) and snapshot/restore (issue 10), driven by
# Python scripts (standard library only) in tests/tools.
SUITES="${SUITES:-} control"

suite_control() {
	if ! have_kvm; then
		skip control_tests "$NO_KVM_REASON"
		return
	fi
	if ! command -v python3 >/dev/null; then
		skip control_tests "python3 is not installed"
		return
	fi
	mkdir -p "$TMP/qmp" "$TMP/snap"
	run_py_test qmp_test tests/tools/qmp_test.py "$SHRIKE" "$K" "$TMP/qmp" $(find_qemu)
	run_py_test snap_test tests/tools/snap_test.py "$SHRIKE" "$K" "$TMP/snap"
	rm -rf "$TMP/snap"
}
