# Foundation: booting test kernels on several vCPUs, loaders, devices,
# hostile guests, KVM giving up.
SUITES="${SUITES:-} foundation"

t_hello() {
	run_vm 60 --kernel "$K/hello.elf"
	expect hello_boots 0 "Hello from a shrike test kernel!" "command line: $K/hello.elf" PASS
}

t_smp() {
	run_vm 60 --kernel "$K/hello.elf" --cpus 4
	expect smp_four_cpus 0 "all 4 CPUs online" "APIC ID 1" "APIC ID 2" "APIC ID 3" || return
	[ "$(grep -c 'online, APIC ID' "$TMP/out")" -eq 3 ] && pass smp_each_ap_reports_once ||
		fail smp_each_ap_reports_once "expected 3 AP lines"
}

t_formats() {
	run_vm 60 --kernel "$K/hello-aout.bin"
	expect multiboot_aout_kludge 0 "Hello from a shrike test kernel!"
	run_vm 60 --kernel "$K/flat-hello.bin" --kernel-format flat
	expect flat_binary_real_mode $(((0x21 << 1) | 1)) "flat OK"
}

t_bootinfo() {
	printf 'INITRD-CONTENTS' >"$TMP/initrd.bin"
	printf 'MODULE-ONE' >"$TMP/mod1.bin"
	run_vm 60 --kernel "$K/bootinfo.elf" --cmdline "a=1 b=2" --initrd "$TMP/initrd.bin" \
		--module "$TMP/mod1.bin,x=y" --memory 128M
	expect multiboot_info 0 "cmdline '$K/bootinfo.elf a=1 b=2'" "mem_lower 640 mem_upper 130048" \
		"mmap 0x0-0x9fc00 type 1" "mmap 0x100000-0x8000000 type 1" "mmap 0xc0000000-0xc0100000 type 2" \
		"string '$TMP/initrd.bin' data 'INITRD-CONTENTS.'" "string '$TMP/mod1.bin x=y' data 'MODULE-ONE......'"
}

t_debug_exit() {
	local v s
	for v in 0 42 127; do
		for s in 1 2 4; do
			run_vm 30 --kernel "$K/exitcode.elf" --cmdline "value=$v size=$s"
			# (v << 1) | 1 can exceed 128: no vmm_healthy() here.
			if [ "$status" -ne $((((v << 1) | 1) & 255)) ]; then
				fail debug_exit_convention "value $v size $s gave $status"; return
			fi
		done
	done
	pass debug_exit_convention
}

t_serial_input() {
	printf 'hello shrike\n' | timeout "$(limit 30)" "$SHRIKE" run --kernel "$K/echo.elf" >"$TMP/out" 2>"$TMP/err"
	status=$?
	expect serial_input_with_irq 0 "HELLO SHRIKE" "13 bytes by interrupt"
}

t_thread_names() {
	"$SHRIKE" run --kernel "$K/spin.elf" --cpus 2 >"$TMP/out" 2>"$TMP/err" </dev/null &
	local pid=$! i names
	for i in $(seq 100); do grep -q "spin:" "$TMP/out" && break; sleep 0.1; done
	names=$(cat /proc/$pid/task/*/comm 2>/dev/null | sort | tr '\n' ',')
	wait $pid
	status=$?
	vmm_healthy vcpu_thread_names || return
	case "$names" in
	*"CPU 0/KVM"*"CPU 1/KVM"*) pass vcpu_thread_names ;;
	*) fail vcpu_thread_names "threads were: $names" ;;
	esac
}

t_hostile_ports() {
	run_vm 120 --kernel "$K/ports.elf" --stats
	expect hostile_every_port_every_size 0 "ports: survived" PASS || return
	grep -q "ports: string output through rep outsb" "$TMP/out" && pass string_io ||
		fail string_io "rep outsb output missing"
	grep -qE 'pio unassigned reads=[1-9][0-9]* writes=[1-9]' "$TMP/err" &&
		pass unassigned_ports_counted || fail unassigned_ports_counted "no counts in --stats"
	# Quiet by default: counted, not printed.
	grep -q 'guest: ' "$TMP/err" && fail guest_errors_quiet_by_default \
		"$(grep -m1 'guest: ' "$TMP/err")" || pass guest_errors_quiet_by_default
	# ~600,000 unassigned accesses; at 10 lines a second the log stays tiny
	# (how many seconds it takes depends on the KVM's exit cost).
	local t0 secs lines
	t0=$(date +%s)
	run_vm 120 --kernel "$K/ports.elf" --log guest-errors
	secs=$(($(date +%s) - t0 + 1))
	expect hostile_ports_logged 0 PASS || return
	lines=$(grep -c 'guest: pio' "$TMP/err")
	if [ "$lines" -ge 1 ] && [ "$lines" -le $((10 * secs)) ]; then
		pass guest_errors_logged_rate_limited
	else
		fail guest_errors_logged_rate_limited "$lines log lines in $secs s"
	fi
}

t_hostile_mmio() {
	run_vm 60 --kernel "$K/mmio.elf" --stats
	expect hostile_unmapped_mmio 0 "mmio: survived" PASS || return
	grep -qE 'mmio unassigned reads=[1-9]' "$TMP/err" && pass unassigned_mmio_counted ||
		fail unassigned_mmio_counted "no counts"
}

t_triple_fault() {
	run_vm 30 --kernel "$K/triplefault.elf" --on-reboot exit
	expect triple_fault_defined_exit 0 "executing ud2" || return
	grep -qE "vCPU 0: triple fault at RIP 0x[0-9a-f]+ \(CS 0x[0-9a-f]+, [a-z0-9 -]+\); the VM ends instead" \
		"$TMP/err" && pass triple_fault_reported ||
		fail triple_fault_reported "no one-line report: $(head -2 "$TMP/err")"
}

# Random code at CPL 0: the VMM must end with a defined status, or, if the
# guest itself hangs, stay responsive and end on SIGTERM.
t_garbage() {
	local seed pid i outcome=""
	for seed in 1 2 3 4 5 6 7 8; do
		"$SHRIKE" run --kernel "$K/garbage.elf" --cmdline "seed=$seed" >"$TMP/out" 2>"$TMP/err" </dev/null &
		pid=$!
		for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
		if kill -0 $pid 2>/dev/null; then
			end_by_sigterm $pid || { fail hostile_garbage_code "seed $seed: shrike ignored SIGTERM"; return; }
			[ "$status" -eq 143 ] || { fail hostile_garbage_code "seed $seed: SIGTERM gave $status"; return; }
			outcome="$outcome $seed:hang->143"
			continue
		fi
		wait $pid
		status=$?
		vmm_healthy hostile_garbage_code || return
		case $status in
		0) ;;
		1) grep -q "KVM internal error\|KVM entry failed\|unhandled KVM exit" "$TMP/err" ||
			{ fail hostile_garbage_code "seed $seed: status 1 without a report"; return; } ;;
		*) [ $((status % 2)) -eq 1 ] ||
			{ fail hostile_garbage_code "seed $seed: undefined status $status"; return; } ;;
		esac
		outcome="$outcome $seed:$status"
	done
	echo "  garbage outcomes:$outcome"
	pass hostile_garbage_code
}

t_emulation_failure() {
	run_vm 30 --kernel "$K/emufail.elf" --emulate off
	vmm_healthy kvm_internal_error_report || return
	if [ "$status" -eq $(((0x20 << 1) | 1)) ]; then
		skip kvm_internal_error_report "this host's KVM executes popcnt natively (hardware virtualization)"
		return
	fi
	if [ "$status" -ne 1 ]; then
		fail kvm_internal_error_report "status $status, expected 1"; return
	fi
	local p
	for p in "KVM internal error, suberror 1 (emulation failure), instruction popcnt" "RIP 0x" \
		"CS mode 64-bit" "bytes at RIP: f3 48 0f b8"; do
		grep -qF "$p" "$TMP/err" || { fail kvm_internal_error_report "report lacks '$p': $(cat "$TMP/err")"; return; }
	done
	[ "$(grep -c 'KVM internal error' "$TMP/err")" -eq 1 ] && pass kvm_internal_error_report ||
		fail kvm_internal_error_report "more than one report"
}

# Kernels, and the kernel cache, on a file system without O_TMPFILE (an
# overlay before Linux 6.6, NFS) and another than the temporary directory's
# (copy_file_range gives EXDEV): containers and network homes are ordinary
# places for both.  The nested test VM's overlayfs (Linux 6.1) has no
# O_TMPFILE; its checkout is 9p and /tmp tmpfs.
t_files_on_overlay() {
	local d=$TMP/ovl m
	m=$d/merged
	mkdir -p "$d/lower" "$d/upper" "$d/work" "$m"
	if ! mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$m" 2>/dev/null; then
		skip files_on_overlayfs "cannot mount an overlay here (needs root and overlayfs)"
		return
	fi
	cp "$K/hello.elf" "$m/"
	python3 tests/tools/images.py bzimage "$m/k.bz" 21
	TMPDIR=$m XDG_CACHE_HOME=$m/cache run_vm 30 --kernel "$m/hello.elf" --initrd "$m/k.bz"
	expect files_on_overlayfs_kernel_and_initrd 0 "Hello from a shrike test kernel"
	TMPDIR=$m XDG_CACHE_HOME=$m/cache run_vm 30 --kernel "$m/k.bz" --serial none --stats
	if [ "$status" -eq 43 ] && grep -q "decompressed on the host in [0-9]* ms, cached" "$TMP/err"; then
		TMPDIR=$m XDG_CACHE_HOME=$m/cache run_vm 30 --kernel "$m/k.bz" --serial none --stats
		[ "$status" -eq 43 ] && grep -q "taken from the cache" "$TMP/err" &&
			pass files_on_overlayfs_kernel_cache ||
			fail files_on_overlayfs_kernel_cache "second run: status $status: $(grep boot: "$TMP/err")"
	else
		fail files_on_overlayfs_kernel_cache "status $status: $(grep boot: "$TMP/err")"
	fi
	m=$(find "$m" -name '.tmp-*' | head -3)
	[ -z "$m" ] && pass files_on_overlayfs_no_temporary_left || fail files_on_overlayfs_no_temporary_left "$m"
	umount "$d/merged"
}

suite_foundation() {
	if ! have_kvm; then
		skip foundation_guest_tests "$NO_KVM_REASON"
		return
	fi
	t_hello
	t_smp
	t_formats
	t_bootinfo
	t_debug_exit
	t_serial_input
	t_files_on_overlay
	t_thread_names
	t_hostile_ports
	t_hostile_mmio
	t_triple_fault
	t_garbage
	t_emulation_failure
}
