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

# probe-runner.sh: NAME:why shrike's verdict may differ from QEMU's.
PROBE_DIFFERENCES="
"

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
	QEMU=$qemu tests/harness/probe-runner.sh "$K" "$QEMU_REFERENCE/probe" \
		>"$QEMU_REFERENCE/probe.log" 2>&1 && touch "$QEMU_REFERENCE/probe.done"
}

# listing_within NAME ARGS...: every line shrike lists for `-ARGS` is a line
# of QEMU's own listing (same format, same text), and it lists something.
listing_within() {
	local name=$1 q=$2 qemu=$3
	shift 3
	"$q" "$@" >"$TMP/l-shrike" 2>&1 </dev/null
	"$qemu" "$@" 2>/dev/null >"$TMP/l-qemu" </dev/null
	if [ ! -s "$TMP/l-shrike" ]; then
		fail "$name" "shrike listed nothing"
	elif grep -vxF -f "$TMP/l-qemu" "$TMP/l-shrike" >"$TMP/l-extra"; then
		fail "$name" "lines QEMU does not print: $(head -3 "$TMP/l-extra" | tr '\n' '|')"
	else
		pass "$name"
	fi
}

# QEMU's listings (issue 20), which harnesses ask before anything else.
qemu_listings() {
	local q=$1 qemu flags_q flags_s
	qemu=$(find_qemu)
	if [ -z "$qemu" ]; then
		skip qemu_listings "qemu-system-x86_64 is not installed and cannot be"
		return
	fi
	listing_within qemu_list_devices "$q" "$qemu" -device help
	listing_within qemu_list_devices_question_mark "$q" "$qemu" -device '?'
	grep -qx 'name "pc-testdev", bus ISA' "$TMP/l-shrike" && pass qemu_list_has_pc_testdev ||
		fail qemu_list_has_pc_testdev "$(cat "$TMP/l-shrike")"
	"$q" -device isa-debug-exit,help >"$TMP/a" 2>&1
	"$qemu" -device isa-debug-exit,help >"$TMP/b" 2>/dev/null
	cmp -s "$TMP/a" "$TMP/b" && pass qemu_list_debug_exit_props ||
		fail qemu_list_debug_exit_props "$(diff "$TMP/b" "$TMP/a" | head -3 | tr '\n' ' ')"
	"$q" -device pc-testdev,help >"$TMP/a" 2>&1
	"$qemu" -device pc-testdev,help >"$TMP/b" 2>/dev/null
	cmp -s "$TMP/a" "$TMP/b" && pass qemu_list_pc_testdev_props ||
		fail qemu_list_pc_testdev_props "$(diff "$TMP/b" "$TMP/a" | head -3 | tr '\n' ' ')"
	listing_within qemu_list_machines "$q" "$qemu" -machine help
	listing_within qemu_list_accels "$q" "$qemu" -accel help
	listing_within qemu_list_chardevs "$q" "$qemu" -chardev help
	"$q" -cpu help | grep '^x86 ' >"$TMP/l-cpus-s"
	"$qemu" -cpu help 2>/dev/null | grep '^x86 ' >"$TMP/l-cpus-q"
	if [ "$(wc -l <"$TMP/l-cpus-s")" -ge 10 ] && ! grep -vxF -f "$TMP/l-cpus-q" "$TMP/l-cpus-s" >/dev/null
	then
		pass qemu_list_cpu_models
	else
		fail qemu_list_cpu_models "$(grep -vxF -f "$TMP/l-cpus-q" "$TMP/l-cpus-s" | head -2 | tr '\n' '|')"
	fi
	flags_s=$("$q" -cpu help | sed -n '/^Recognized CPUID flags:/,$p' | tail -n +2 | tr ' ' '\n' | grep . | sort)
	flags_q=$("$qemu" -cpu help 2>/dev/null | sed -n '/^Recognized CPUID flags:/,$p' | tail -n +2 | tr ' ' '\n' | grep . | sort)
	if [ -n "$flags_s" ] && [ -z "$(comm -23 <(echo "$flags_s") <(echo "$flags_q"))" ]; then
		pass qemu_list_cpu_flags
	else
		fail qemu_list_cpu_flags "not QEMU's names: $(comm -23 <(echo "$flags_s") <(echo "$flags_q") | head -5 | tr '\n' ' ')"
	fi
	# virtio disks through QEMU's spellings: what shrike refuses, QEMU's way.
	: >"$TMP/disk.img"
	qemu_expect qemu_drive_missing_file 1 \
		"qemu-system-x86_64: -drive file=$TMP/none.img,if=virtio,format=raw: Could not open '$TMP/none.img': No such file or directory" \
		"$q" -drive "file=$TMP/none.img,if=virtio,format=raw" -kernel "$K/hello.elf"
	qemu_expect qemu_drive_not_raw 1 \
		"qemu-system-x86_64: -drive file=$TMP/disk.img,if=virtio,format=qcow2: shrike reads raw images only (format=raw), not 'qcow2'" \
		"$q" -drive "file=$TMP/disk.img,if=virtio,format=qcow2" -kernel "$K/hello.elf"
	qemu_expect qemu_virtio_blk_no_drive 1 "qemu-system-x86_64: -device virtio-blk-pci: drive property not set" \
		"$q" -device virtio-blk-pci -kernel "$K/hello.elf"
	qemu_expect qemu_virtio_blk_unknown_drive 1 \
		"qemu-system-x86_64: -device virtio-blk-pci,drive=d9: Property 'virtio-blk-pci.drive' can't find value 'd9'" \
		"$q" -device virtio-blk-pci,drive=d9 -kernel "$K/hello.elf"
	# Network cards: taps only, no scripts, no vhost-net, QEMU's property errors.
	qemu_expect qemu_netdev_user_refused 1 \
		"qemu-system-x86_64: -netdev user,id=n0: shrike's networks are taps: -netdev tap,id=ID,ifname=NAME (or fd=N)" \
		"$q" -netdev user,id=n0 -kernel "$K/hello.elf"
	qemu_expect qemu_netdev_vhost_refused 1 \
		"qemu-system-x86_64: -netdev tap,id=n0,ifname=t0,vhost=on: shrike has no vhost-net (its own thread moves the frames): vhost=off" \
		"$q" -netdev tap,id=n0,ifname=t0,vhost=on -kernel "$K/hello.elf"
	qemu_expect qemu_netdev_script_refused 1 \
		"qemu-system-x86_64: -netdev tap,id=n0,ifname=t0,script=/etc/qemu-ifup: shrike runs no network scripts: script=no, with a tap the administrator set up" \
		"$q" -netdev tap,id=n0,ifname=t0,script=/etc/qemu-ifup -kernel "$K/hello.elf"
	qemu_expect qemu_vhost_vsock_cid_2 1 \
		"qemu-system-x86_64: -device vhost-vsock-pci,guest-cid=2: guest-cid property must be greater than 2" \
		"$q" -device vhost-vsock-pci,guest-cid=2 -kernel "$K/hello.elf"
	qemu_expect qemu_vhost_vsock_cid_64bit 1 \
		"qemu-system-x86_64: -device vhost-vsock-pci,guest-cid=4294967296: guest-cid property must be a 32-bit number" \
		"$q" -device vhost-vsock-pci,guest-cid=4294967296 -kernel "$K/hello.elf"
	qemu_expect qemu_vhost_vsock_unknown_property 1 \
		"qemu-system-x86_64: -device vhost-vsock-pci,guest-cid=3,foo=1: Property 'vhost-vsock-pci.foo' not found" \
		"$q" -device vhost-vsock-pci,guest-cid=3,foo=1 -kernel "$K/hello.elf"
	qemu_expect qemu_virtio_net_unknown_netdev 1 \
		"qemu-system-x86_64: -device virtio-net-pci,netdev=n9: Property 'virtio-net-pci.netdev' can't find value 'n9'" \
		"$q" -device virtio-net-pci,netdev=n9 -kernel "$K/hello.elf"
	qemu_expect qemu_nic_model_refused 1 \
		"qemu-system-x86_64: -nic tap,ifname=t0,model=e1000: shrike's network card is virtio-net-pci, not 'e1000'" \
		"$q" -nic tap,ifname=t0,model=e1000 -kernel "$K/hello.elf"
	qemu_expect qemu_err_unknown_device_help 1 \
		"qemu-system-x86_64: -device foo,help: Device 'foo' not found" \
		"$q" -device foo,help
	"$SHRIKE" run --device help | grep -q "pc-testdev" && pass shrike_run_device_help ||
		fail shrike_run_device_help "no listing"
	run_vm 10 --kernel "$K/hello.elf" --device nosuch
	expect shrike_run_unknown_device 2 || true
	grep -q "unknown device 'nosuch'" "$TMP/err" && pass shrike_run_unknown_device_named ||
		fail shrike_run_unknown_device_named "$(cat "$TMP/err")"
}

# The probing runner (tests/harness/probe-runner.sh) against QEMU and the
# symlink: the same verdict for every test, and pc-testdev's kernel prints
# the same lines under both.
qemu_probe_runner() {
	local link=$1 name v w why
	if [ ! -f "$QEMU_REFERENCE/probe.done" ]; then
		skip qemu_probe_runner "QEMU's reference run failed: $(tail -1 "$QEMU_REFERENCE/probe.log" 2>/dev/null)"
		return
	fi
	if ! QEMU=$link tests/harness/probe-runner.sh "$K" "$TMP/p-shrike" >"$TMP/p.log" 2>&1; then
		fail qemu_probe_runner_preflight "$(tail -2 "$TMP/p.log")"
		return
	fi
	grep -q -- "-device pc-testdev" "$TMP/p-shrike/probe" && pass qemu_probe_finds_pc_testdev ||
		fail qemu_probe_finds_pc_testdev "$(cat "$TMP/p-shrike/probe")"
	while read -r name v; do
		w=$(awk -v n="$name" '$1 == n { print $2 }' "$TMP/p-shrike/verdicts")
		why=$(printf '%s\n' "$PROBE_DIFFERENCES" | sed -n "s/^$name://p")
		if [ "$v" = "$w" ]; then
			pass "qemu_probe_same_$name"
		elif [ -n "$why" ]; then
			pass "qemu_probe_$name"
			echo "  $name: QEMU $v, shrike $w: $why"
		else
			fail "qemu_probe_same_$name" "QEMU $v, shrike $w: $(tail -2 "$TMP/p-shrike/$name.out" "$TMP/p-shrike/$name.err" | tr '\n' ' ')"
		fi
	done <"$QEMU_REFERENCE/probe/verdicts"
	for name in pctestdev pctestdev-smp pcitestdev; do
		same_lines "$QEMU_REFERENCE/probe/$name.out" "$TMP/p-shrike/$name.out" &&
			pass "qemu_probe_same_output_$name" ||
			fail "qemu_probe_same_output_$name" "$(diff "$QEMU_REFERENCE/probe/$name.out" "$TMP/p-shrike/$name.out" | head -3 | tr '\n' ' ')"
	done
	for name in cpuinfo-qemu64 cpuinfo-kvm64; do
		v=$(grep "cpuinfo: level" "$QEMU_REFERENCE/probe/$name.out")
		w=$(grep "cpuinfo: level" "$TMP/p-shrike/$name.out")
		if [ "$v" = "$w" ]; then
			pass "qemu_cpu_identity_$name"
		elif grep -q "keeps its own CPU identity" "$TMP/p-shrike/$name.err"; then
			pass "qemu_cpu_identity_$name"      # this host's KVM overrides it, and shrike says so
		else
			fail "qemu_cpu_identity_$name" "QEMU: $v; shrike: $w"
		fi
	done
}

suite_qemu() {
	local qemu link n name a b
	link=$TMP/bin/qemu-system-x86_64
	mkdir -p "$TMP/bin"
	ln -sf "$PWD/$SHRIKE" "$link"
	qemu_cli_errors "$link"
	qemu_listings "$link"
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
	qemu_probe_runner "$link"
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
		"qemu-system-x86_64: -device e1000: 'e1000' is not a valid device model name" \
		"$q" -kernel "$k" -device e1000
	qemu_expect qemu_err_debug_exit_property 1 \
		"qemu-system-x86_64: -device isa-debug-exit,foo=1: Property 'isa-debug-exit.foo' not found" \
		"$q" -kernel "$k" -device isa-debug-exit,foo=1
	SHRIKE_IGNORE_DEVICES=e1000 qemu_expect qemu_ignored_device 0 \
		"qemu-system-x86_64: warning: -device e1000: ignored (SHRIKE_IGNORE_DEVICES / -ignore-device)" \
		"$q" -kernel "$k" -device e1000
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
	# fuzz/cmdline found dies=0 dividing by zero (SIGFPE).
	qemu_expect qemu_smp_zero_dies 1 "qemu: could not open kernel file '$TMP/none': No such file or directory" \
		"$q" -smp 2,dies=0 -kernel "$TMP/none"
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
	# A generic model: QEMU's qemu64 has no POPCNT and no 1 GiB pages.
	run_vm 20 --kernel "$K/cpuinfo.elf" --cpu qemu64
	if [ "$status" = 0 ] && grep -q "popcnt 0 pdpe1gb 0" "$TMP/out" &&
		grep -q "level 0xd xlevel 0x8000000a family 15 model 107 stepping 1" "$TMP/out"; then
		pass cpu_model_qemu64
	elif [ "$status" = 0 ] && grep -q "whatever -cpu" "$TMP/err"; then
		pass cpu_model_qemu64                # the host overrides some of it, and says so
	else
		fail cpu_model_qemu64 "status $status: $(cat "$TMP/out" "$TMP/err" | tr '\n' ' ')"
	fi
	run_vm 20 --kernel "$K/cpuinfo.elf" --cpu host,+nosuchflag
	expect cpu_model_unknown_flag_refused 2 || true
	grep -q "unknown CPU feature 'nosuchflag'" "$TMP/err" && pass cpu_model_unknown_flag_named ||
		fail cpu_model_unknown_flag_named "$(cat "$TMP/err")"
	run_vm 20 --kernel "$K/acpifind.elf"
	expect acpi_tables_for_multiboot 0 "PM timer at port 0x608: counts" PASS
}
