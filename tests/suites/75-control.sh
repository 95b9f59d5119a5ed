# The control socket (QMP) and snapshot/restore (issue 10), driven by
# Python scripts (standard library only) in tests/tools.
SUITES="${SUITES:-} control"

suite_control() {
	need_kvm_python control_tests || return
	mkdir -p "$TMP/qmp" "$TMP/snap"
	run_py_test qmp_test tests/tools/qmp_test.py "$SHRIKE" "$K" "$TMP/qmp" $(find_qemu)
	run_py_test snap_test tests/tools/snap_test.py "$SHRIKE" "$K" "$TMP/snap"
	rm -rf "$TMP/snap"
}
