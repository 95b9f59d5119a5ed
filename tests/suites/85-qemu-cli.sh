# QEMU's command line (issue 9): a harness written only against QEMU's
# command line (tests/harness/run-kernels.sh) runs the test kernels with
# QEMU=qemu-system-x86_64 and with QEMU= shrike's symlink; statuses and
# serial output must be identical, except for the kernels below that differ
# by design.  Then CPU models, and every command-line error path.
SUITES="${SUITES:-} qemu_reference qemu"
# QEMU's own results for the harness (QEMU with its TCG: no KVM needed), made
# once per make check by the part that runs on this host; inside the nested
# test VM QEMU's TCG would be emulated twice over (minutes per kernel).
QEMU_REFERENCE=$BUILD/qemu-reference

# NN-name: why the two may differ (shrike's own result is still checked).
KNOWN_DIFFERENCES="
bootinfo:the memory map (shrike's e820 has no EBDA; SeaBIOS reserves one)
cpuinfo:the default CPU model (QEMU's qemu64, shrike's host)
emulate:instructions this host's KVM cannot emulate: QEMU stops, shrike completes them
mmio:unassigned MMIO reads all ones under shrike (a PC's master abort), zeros under QEMU
ports:every port is written, ACPI PM1 control included: QEMU powers off part way
reboot:the kernel prints its TSC
rtcyear:shrike keeps every RTC field in its range (security review 1, finding 4)
stress:the kernel prints calls per second
vmport:shrike's backdoor replies in full at every access size, QEMU's at 32 bits only
"

# same_lines A B: the same lines, in any order.  vCPUs print concurrently
# (the demo's two CPUs finish in either order under QEMU as under shrike),
# so only the lines, not their interleaving, are each VMM's result.
same_lines() {
	cmp -s "$1" "$2" || cmp -s <(sort "$1") <(sort "$2")
}

known_difference() {
	local name=${1#*-}
	printf '%s\n' "$KNOWN_DIFFERENCES" | grep -q "^$name:"
}

suite_qemu_reference() {
	local qemu
	rm -rf "$QEMU_REFERENCE"
	qemu=$(find_qemu)
	[ -n "$qemu" ] || return 0
	mkdir -p "$QEMU_REFERENCE"
	if QEMU=$qemu tests/harness/run-kernels.sh "$K" "$QEMU_REFERENCE/out" >"$QEMU_REFERENCE/log" 2>&1; then
		touch "$QEMU_REFERENCE/done"
	fi
}

suite_qemu() {
	local qemu link n name a b
	link=$TMP/bin/qemu-system-x86_64
	mkdir -p "$TMP/bin"
	ln -sf "$PWD/$SHRIKE" "$link"
	qemu_cli_errors "$link"
	if ! have_kvm; then
		skip qemu_harness "$NO_KVM_REASON"
		return
	fi
	qemu_cpu_models "$link"
	qemu=$(find_qemu)
	if [ -z "$qemu" ]; then
		skip qemu_harness_same_results "qemu-system-x86_64 is not installed and cannot be"
		QEMU=$link tests/harness/run-kernels.sh "$K" "$TMP/h-shrike" >"$TMP/h.log" 2>&1 &&
			pass qemu_harness_runs_on_shrike ||
			fail qemu_harness_runs_on_shrike "$(tail -2 "$TMP/h.log")"
		return
	fi
	if [ -f "$QEMU_REFERENCE/done" ]; then
		cp -r "$QEMU_REFERENCE/out" "$TMP/h-qemu"
	elif [ -f "$QEMU_REFERENCE/log" ]; then
		skip qemu_harness_same_results "the harness fails with QEMU itself: $(tail -1 "$QEMU_REFERENCE/log")"
		return
	elif ! QEMU=$qemu tests/harness/run-kernels.sh "$K" "$TMP/h-qemu" >"$TMP/h.log" 2>&1; then
		skip qemu_harness_same_results "the harness fails with QEMU itself: $(tail -1 "$TMP/h.log")"
		return
	fi
	if ! QEMU=$link tests/harness/run-kernels.sh "$K" "$TMP/h-shrike" >"$TMP/h.log" 2>&1; then
		fail qemu_harness_preflight "$(tail -2 "$TMP/h.log")"
		return
	fi
	pass qemu_harness_preflight
	for a in "$TMP"/h-qemu/*.status; do
		n=$(basename "$a" .status)
		b=$TMP/h-shrike/$n.status
		if known_difference "$n"; then
			# Differs by design; shrike's own run must still pass.
			[ "$(cat "$b")" = 0 ] && pass "qemu_harness_$n" ||
				fail "qemu_harness_$n" "shrike ended with $(cat "$b"): $(tail -1 "$TMP/h-shrike/$n.out")"
			continue
		fi
		if [ "$(cat "$a")" = "$(cat "$b")" ] && same_lines "$TMP/h-qemu/$n.out" "$TMP/h-shrike/$n.out"; then
			pass "qemu_harness_same_$n"
		else
			fail "qemu_harness_same_$n" "QEMU $(cat "$a"), shrike $(cat "$b"): $(diff "$TMP/h-qemu/$n.out" "$TMP/h-shrike/$n.out" | head -3 | tr '\n' ' ')"
		fi
	done
}

# qemu_expect NAME STATUS FIRST-LINE ARGS...: runs QEMU-personality shrike,
# checks the status and that stderr's first line is exactly FIRST-LINE.
qemu_expect() {
	local name=$1 want=$2 line=$3 got
	shift 3
	timeout -k 5 "$(limit 30)" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
	status=$?
	got=$(head -1 "$TMP/err")
	if [ "$status" = "$want" ] && [ "$got" = "$line" ]; then
		pass "$name"
	else
		fail "$name" "status $status (want $want), stderr '$got' (want '$line')"
	fi
}

qemu_cli_errors() {
	local q=$1 k=$K/hello.elf
	qemu_expect qemu_err_invalid_option 1 "qemu-system-x86_64: -foo: invalid option" "$q" -foo
	qemu_expect qemu_err_missing_argument 1 "qemu-system-x86_64: -kernel: requires an argument" \
		"$q" -kernel
	qemu_expect qemu_err_missing_kernel 1 \
		"qemu: could not open kernel file '$TMP/none': No such file or directory" \
		"$q" -kernel "$TMP/none"
	qemu_expect qemu_err_kernel_directory 1 "qemu: could not load kernel '$TMP': Is a directory" \
		"$q" -kernel "$TMP"
	head -c 4096 /dev/urandom >"$TMP/garbage.bin"
	qemu_expect qemu_err_garbage_kernel 1 "qemu: invalid kernel header" "$q" -kernel "$TMP/garbage.bin"
	qemu_expect qemu_err_missing_initrd 1 "qemu-system-x86_64: Failed to open file '$TMP/none'" \
		"$q" -kernel "$k" -initrd "$TMP/none"
	qemu_expect qemu_err_unknown_device 1 \
		"qemu-system-x86_64: -device virtio-blk-pci: 'virtio-blk-pci' is not a valid device model name" \
		"$q" -kernel "$k" -device virtio-blk-pci
	qemu_expect qemu_err_debug_exit_property 1 \
		"qemu-system-x86_64: -device isa-debug-exit,foo=1: Property 'isa-debug-exit.foo' not found" \
		"$q" -kernel "$k" -device isa-debug-exit,foo=1
	SHRIKE_IGNORE_DEVICES=virtio-blk-pci qemu_expect qemu_ignored_device 0 \
		"qemu-system-x86_64: warning: -device virtio-blk-pci: ignored (SHRIKE_IGNORE_DEVICES / -ignore-device)" \
		"$q" -kernel "$k" -device virtio-blk-pci
	qemu_expect qemu_err_cpu_model 1 "qemu-system-x86_64: unable to find CPU model 'foo'" \
		"$q" -kernel "$k" -cpu foo
	qemu_expect qemu_err_cpu_feature 1 "qemu-system-x86_64: Property 'host-x86_64-cpu.foo' not found" \
		"$q" -kernel "$k" -cpu host,+foo
	qemu_expect qemu_err_memory 1 \
		"qemu-system-x86_64: -m foo: Parameter 'size' expects a non-negative number below 2^64" \
		"$q" -kernel "$k" -m foo
	# Security review 2, N12: sizes that round past 2^64, an empty -accel,
	# a -pidfile name planted as a link (its target must stay as it was).
	qemu_expect qemu_err_memory_wraps 1 \
		"qemu-system-x86_64: -m 18014398509481983K: Parameter 'size' expects a non-negative number below 2^64" \
		"$q" -kernel "$k" -m 18014398509481983K
	qemu_expect qemu_err_accel_empty 1 "qemu-system-x86_64: -accel : shrike runs on KVM only" \
		"$q" -kernel "$k" -accel ,
	printf 'precious\n' >"$TMP/pid-victim"
	ln -sf "$TMP/pid-victim" "$TMP/pid-link"
	timeout -k 5 "$(limit 30)" "$q" -kernel "$k" -nodefaults -display none -pidfile "$TMP/pid-link" \
		</dev/null >/dev/null 2>&1
	[ "$(cat "$TMP/pid-victim")" = precious ] && pass qemu_pidfile_link_not_followed ||
		fail qemu_pidfile_link_not_followed "the link's target now holds '$(cat "$TMP/pid-victim")'"
	qemu_expect qemu_err_smp 1 "qemu-system-x86_64: Parameter 'smp.cpus' expects integer" \
		"$q" -kernel "$k" -smp foo
	qemu_expect qemu_err_serial 1 "qemu-system-x86_64: -serial foo: 'foo' is not a valid char driver" \
		"$q" -kernel "$k" -serial foo
	qemu_expect qemu_err_chardev 1 \
		"qemu-system-x86_64: -chardev foo,id=x: 'foo' is not a valid char driver name" \
		"$q" -kernel "$k" -chardev foo,id=x
	qemu_expect qemu_err_machine 1 "qemu-system-x86_64: unsupported machine type" "$q" -M foo
	qemu_expect qemu_err_append_alone 1 "qemu-system-x86_64: -append only allowed with -kernel option" \
		"$q" -append x
	qemu_expect qemu_err_rtc 1 "qemu-system-x86_64: invalid datetime format" \
		"$q" -kernel "$k" -rtc base=foo
	qemu_expect qemu_global_warns 0 \
		"qemu-system-x86_64: warning: -global kvm-pit.lost_tick_policy=discard: only tunes QEMU, ignored" \
		"$q" -kernel "$k" -global kvm-pit.lost_tick_policy=discard -nodefaults
	"$q" -version | grep -q "^QEMU emulator version 7\.2\." && pass qemu_version ||
		fail qemu_version "$("$q" -version)"
	"$SHRIKE" qemu -help | grep -q -- "-kernel" && pass qemu_help || fail qemu_help "no usage"
	"$SHRIKE" run --help | grep -q -- "--kernel PATH" && pass shrike_run_help ||
		fail shrike_run_help "no usage"
}

qemu_cpu_models() {
	local q=$1 line
	cpuline() {
		"$q" -nodefaults -serial stdio -kernel "$K/cpuinfo.elf" -cpu "$1" </dev/null \
			>"$TMP/out" 2>"$TMP/err"
	}
	cpuline host,-x2apic
	grep -q "x2apic 0 " "$TMP/out" && grep -q "x2apic mode refused" "$TMP/out" &&
		pass cpu_model_no_x2apic || fail cpu_model_no_x2apic "$(cat "$TMP/out")"
	cpuline host,-cx16
	if grep -q "cx16 0 " "$TMP/out"; then
		pass cpu_model_no_cx16
	elif grep -q "keeps feature cx16" "$TMP/err"; then
		pass cpu_model_no_cx16       # the host overrides it, and says so
	else
		fail cpu_model_no_cx16 "$(cat "$TMP/out" "$TMP/err")"
	fi
	cpuline host,-popcnt
	if grep -q "popcnt 0 " "$TMP/out"; then
		pass cpu_model_no_popcnt
	elif grep -q "warning: this host's KVM keeps feature popcnt" "$TMP/err" &&
		[ "$(grep -c 'keeps feature popcnt' "$TMP/err")" = 1 ]; then
		pass cpu_model_no_popcnt     # overridden here: one warning names it
	else
		fail cpu_model_no_popcnt "$(cat "$TMP/out" "$TMP/err")"
	fi
	cpuline host,vendor=AuthenticAMD
	if grep -q "vendor AuthenticAMD" "$TMP/out" || grep -q "keeps the vendor" "$TMP/err"; then
		pass cpu_model_vendor
	else
		fail cpu_model_vendor "$(cat "$TMP/out" "$TMP/err")"
	fi
	run_vm 20 --kernel "$K/cpuinfo.elf" --cpu host,+nosuchflag
	expect cpu_model_unknown_flag_refused 2 || true
	grep -q "unknown CPU feature 'nosuchflag'" "$TMP/err" && pass cpu_model_unknown_flag_named ||
		fail cpu_model_unknown_flag_named "$(cat "$TMP/err")"
	run_vm 20 --kernel "$K/acpifind.elf"
	expect acpi_tables_for_multiboot 0 "PM timer at port 0x608: counts" PASS
}
