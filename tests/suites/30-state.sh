# The state engine and the devices that consume state, driven from the
# command line (the in-process cases are in tests/host/state_test.c).
SUITES="${SUITES:-} state"

t_vmport_narrow() {
	local mode
	for mode in lazy full; do
		run_vm 60 --kernel "$K/vmport.elf" --sync $mode
		expect "vmport_full_reply_every_size_$mode" 0 \
			"IN and OUT of size 1 deliver the full reply" \
			"IN and OUT of size 2 deliver the full reply" \
			"IN and OUT of size 4 deliver the full reply"
	done
	run_vm 60 --kernel "$K/vmport.elf" --no-vmport
	expect no_vmport_removes_the_device 3 "FAIL: IN size 1"
}

t_stats_counts() {
	run_vm 60 --kernel "$K/vmport.elf" --cmdline calls=100 --stats
	expect stats_report 0 "100 more calls done" || return
	if grep -q "gets: sync_state=" "$TMP/err" && grep -q "puts: runtime/exec=" "$TMP/err" &&
		grep -q "full/post_init=1" "$TMP/err" && grep -qE "exits: io=[0-9]+" "$TMP/err"; then
		pass stats_counters
	else
		fail stats_counters "unexpected --stats output: $(tr '\n' '|' <"$TMP/err")"
	fi
}

t_demo() {
	run_vm 60 --kernel "$K/demo.elf" --cpus 2 --trace-sync "$TMP/demo.jsonl"
	expect demo_kernel 0 "CPU 0 (APIC ID 0): 1000 backdoor calls, version 6, magic ok" \
		"CPU 1 (APIC ID 1): 1000 backdoor calls, version 6, magic ok" || return
	[ "$(grep -c '"origin":"vmport:0x5658","classes":\["regs"\],"ioctls":0' "$TMP/demo.jsonl")" -ge 4000 ] &&
		pass demo_trace_zero_ioctl_backdoor || fail demo_trace_zero_ioctl_backdoor "trace lacks zero-ioctl backdoor transfers"
}

suite_state() {
	if ! have_kvm; then
		skip state_cli_tests "$NO_KVM_REASON"
		return
	fi
	t_vmport_narrow
	t_stats_counts
	t_demo
}
