# Instructions KVM's emulator cannot run, completed by shrike (issue 13).
SUITES="${SUITES:-} emulate"

# The families this host's KVM gives up on (../shared/design), which the
# test kernel runs: on such a host each must show in --stats, so that the
# test cannot pass because KVM ran them itself.
EMULATED_FAMILIES="int3 int fwait fnstsw fld1 fldz popcnt crc32 adcx adox cmpxchg16b xgetbv clac stac clwb lar lsl verw"

emulates_kernel_code() { [ -d /sys/module/kvm_pvm ]; }

t_emulate_families() {
	local mode=$1 m missing="" by_cpu=""
	# Where KVM runs these instructions itself, what the CPU does where the
	# architecture leaves room is not shrike's to test (guest/tests/emulate.c).
	emulates_kernel_code || by_cpu=by-cpu
	run_vm 240 --kernel "$K/emulate.elf" --cpus 2 --stats --sync "$mode" --cmdline "$by_cpu"
	expect "emulate_instruction_families_$mode" 0 "checks passed" \
		"cmpxchg16b against lock xadd on 2 CPUs: 100000 + 100000 increments, none lost" || return
	grep 'emulated by shrike' "$TMP/err" | sed 's/.*stats: /  /'
	if ! emulates_kernel_code; then
		skip "emulate_completed_by_shrike_$mode" "this host's KVM runs these instructions itself"
		return
	fi
	for m in $EMULATED_FAMILIES; do
		grep -qE "emulated by shrike:.* $m=[1-9]" "$TMP/err" || missing="$missing $m"
	done
	[ -z "$missing" ] && pass "emulate_completed_by_shrike_$mode" ||
		fail "emulate_completed_by_shrike_$mode" "not completed by shrike:$missing"
}

t_emulate_off() {
	run_vm 60 --kernel "$K/emulate.elf" --cmdline case=bits --emulate off
	vmm_healthy emulate_off_reports || return
	if ! emulates_kernel_code; then
		skip emulate_off_reports "this host's KVM runs these instructions itself"
	elif [ "$status" -eq 1 ] && grep -q "instruction popcnt, RIP" "$TMP/err"; then
		pass emulate_off_reports
	else
		fail emulate_off_reports "status $status: $(tail -1 "$TMP/err")"
	fi
}

t_emulate_trace() {
	run_vm 60 --kernel "$K/emulate.elf" --cmdline case=bits --trace-sync "$TMP/emu.jsonl"
	vmm_healthy emulate_trace_cause || return
	if ! emulates_kernel_code; then
		skip emulate_trace_cause "this host's KVM runs these instructions itself"
		return
	fi
	# Gets with cause emulate, the registers and sregs from kvm_run (no
	# ioctl); the write-back names the instruction.
	if grep -q '"cause":"emulate","origin":"emulate","classes":\["regs","sregs"\],"ioctls":0' "$TMP/emu.jsonl" &&
		grep -q '"op":"put","level":"runtime","cause":"exec","origin":"emulate:popcnt"' "$TMP/emu.jsonl"; then
		pass emulate_trace_cause
	else
		fail emulate_trace_cause "$(grep -m2 emulate "$TMP/emu.jsonl")"
	fi
}

suite_emulate() {
	if ! have_kvm; then
		skip emulate_tests "$NO_KVM_REASON"
		return
	fi
	t_emulate_families lazy
	t_emulate_families full
	t_emulate_off
	t_emulate_trace
}
