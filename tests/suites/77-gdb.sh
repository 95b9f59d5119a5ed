# The debugger's server (issue 11): Debian's gdb in batch mode against the
# test kernel, then the protocol itself with malformed and random packets.
SUITES="${SUITES:-} gdb"

suite_gdb() {
	local spec
	# Bad --gdb arguments are usage errors, before anything is created.
	for spec in tcp:1234 tcp::99999 tcp::-1 udp::1234 unix: tcp:; do
		run_vm 10 --kernel "$K/hello.elf" --gdb "$spec"
		expect "gdb_bad_spec_${spec//[^a-z0-9]/_}" 2 || true
	done
	run_vm 10 --kernel "$K/hello.elf" --gdb-wait
	expect gdb_wait_needs_gdb 2
	# Not on an address other hosts reach without --gdb-allow-remote
	# (security review 2, N6); refused before anything listens.
	run_vm 10 --kernel "$K/hello.elf" --gdb tcp:0.0.0.0:0
	expect gdb_remote_address_refused 2 &&
		grep -q "not a loopback address.*--gdb-allow-remote" "$TMP/err" ||
		fail gdb_remote_address_refused_says_why "$(cat "$TMP/err")"
	need_kvm_python gdb_tests || return
	if ! command -v gdb >/dev/null && [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gdb \
			>"$TMP/apt.log" 2>&1 || true
	fi
	mkdir -p "$TMP/gdb"
	run_py_test gdb_test tests/tools/gdb_test.py "$SHRIKE" "$K" "$TMP/gdb"
	run_py_test gdb_proto_test tests/tools/gdb_proto_test.py "$SHRIKE" "$K" "$TMP/gdb" 3000
	rm -rf "$TMP/gdb"
}
