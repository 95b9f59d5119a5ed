# Devices that read and write vCPU state: the VMware backdoor and the
# vapic port (issue 4).
SUITES="${SUITES:-} devices"

UUID=12345678-9abc-def0-1122-334455667788

t_vmport_commands() {
	local before after t
	before=$(date +%s)
	run_vm 120 --kernel "$K/vmport_cmds.elf" --cpus 2 --uuid $UUID \
		--cmdline "uuid=${UUID//-/}" --trace-sync "$TMP/vmport.jsonl"
	after=$(date +%s)
	expect vmport_every_command_two_vcpus 0 "every command on 2 CPUs, IN and OUT, sizes 1, 2, 4" || return
	t=$(sed -n 's/^vmport: GETTIME \([0-9]*\)\..*/\1/p' "$TMP/out" | tr -d '\r')
	if [ -n "$t" ] && [ "$t" -ge $((before - 1)) ] && [ "$t" -le $((after + 1)) ]; then
		pass vmport_gettime_matches_host_clock
	else
		fail vmport_gettime_matches_host_clock "guest saw '$t', host clock $before..$after"
	fi
	# Every backdoor call moves the general registers only, with no ioctl.
	if grep '"origin":"vmport:0x5658"' "$TMP/vmport.jsonl" | grep -qv '"classes":\["regs"\],"ioctls":0,'; then
		fail vmport_moves_regs_only "$(grep '"origin":"vmport' "$TMP/vmport.jsonl" | grep -v '"ioctls":0,' | head -1)"
	elif [ "$(grep -c '"origin":"vmport:0x5658"' "$TMP/vmport.jsonl")" -lt 1000 ]; then
		fail vmport_moves_regs_only "too few backdoor transfers in the trace"
	else
		pass vmport_moves_regs_only
	fi
}

t_vmport_cpl3() {
	local param expect
	param=$(cat /sys/module/kvm/parameters/enable_vmware_backdoor 2>/dev/null || echo N)
	case $param in Y | y | 1) expect=reply ;; *) expect=gp ;; esac
	run_vm 60 --kernel "$K/vmport_cpl3.elf" --cmdline "expect=$expect"
	expect "vmport_cpl3_$expect" 0 "cpl3: user-mode backdoor call ended"
}

t_vapic() {
	local want
	run_vm 60 --kernel "$K/vapic.elf" --stats --log guest-errors --trace-sync "$TMP/vapic.jsonl"
	expect vapic_guest_resumes_after_out 0 "vapic: the guest resumed after each OUT" || return
	want=$(sed -n 's/^vapic: expecting the ROM state at \(0x[0-9a-f]*\).*/\1/p' "$TMP/out" | tr -d '\r')
	grep -q "vapic: ROM state at $want (1 registrations, 1 refused, 1 reactivations, 1 polls)" "$TMP/err" &&
		pass vapic_registration_address || fail vapic_registration_address \
		"expected $want: $(grep 'vapic:' "$TMP/err")"
	grep -q "vapic registration refused: no 'kvm aPiC' signature" "$TMP/err" &&
		pass vapic_refusal_logged || fail vapic_refusal_logged "no log line"
	# REGS and SREGS both come from the kvm_run page with KVM_CAP_SYNC_REGS.
	[ "$(grep -c '"origin":"vapic:0x7e","classes":\["regs","sregs"\],"ioctls":0,' "$TMP/vapic.jsonl")" -eq 2 ] &&
		! grep '"origin":"vapic' "$TMP/vapic.jsonl" | grep -qv '"ioctls":0,' &&
		pass vapic_costs_no_ioctl || fail vapic_costs_no_ioctl "$(grep vapic "$TMP/vapic.jsonl")"
	run_vm 60 --kernel "$K/vapic.elf" --stats --no-vapic
	if [ "$status" -eq 0 ] && ! grep -q "vapic: ROM state" "$TMP/err" &&
		grep -qE "pio unassigned reads=[1-9].*writes=[1-9]" "$TMP/err"; then
		pass no_vapic_removes_the_port
	else
		fail no_vapic_removes_the_port "status $status: $(tail -2 "$TMP/err")"
	fi
}

# QEMU's pc-testdev (issue 20): every register from a guest, in both
# irqchip modes (the kernel_irqchip unit runs this suite again); absent
# unless asked for, so that port 0xe0 stays unassigned for benchmarks.
t_pc_testdev() {
	run_vm 60 --kernel "$K/pctestdev.elf" --device pc-testdev --cmdline extra=1
	expect pc_testdev_registers 0 "string I/O" "mmio: 1/2/4/8-byte" "flush: the page reads back" \
		"through the 8259, edge and level: ok" "through the IOAPIC, edge and level: ok" PASS
	run_vm 60 --kernel "$K/pctestdev.elf" --cmdline extra=1
	expect pc_testdev_only_on_request 3 "FAIL: inl 0xe0: 0xffffffff"
	# QEMU's pci-testdev on shrike's PCI bus: found by a conf1 scan, its
	# BARs assigned (its eventfd tests are KVM's: compared with QEMU's
	# output in the qemu suite).
	run_vm 60 --kernel "$K/pcitestdev.elf" --device pci-testdev
	expect pci_testdev_tests 0 "3 memory and 3 I/O tests passed" PASS
	run_vm 60 --kernel "$K/pcitestdev.elf"
	expect pci_testdev_only_on_request 3 "no pci-testdev (1b36:0005) on bus 0"
}

# A hostile virtio driver (guest/tests/virtiofuzz.c) against a disk, the
# entropy device, the console, vsock (shrike's own host side) and a network
# card: random resets, features, queue sizes,
# ring addresses and descriptors, notifications on every queue.  shrike
# stays up, sanitizer-clean, and every device still answers; the image
# outside the disk is never written (its size is unchanged).
t_virtio_hostile_driver() {
	local seed net=() ns="shrike-vfuzz-$$" saved=$SHRIKE real=$SHRIKE
	truncate -s 4M "$TMP/vfuzz.img"
	# A network card too, on a tap in a namespace of the test's own (root
	# and iproute2 needed; without them the card is left out, said so).
	if [ "$(id -u)" = 0 ] && ip netns add "$ns" 2>/dev/null; then
		if ip -n "$ns" tuntap add dev tap0 mode tap 2>/dev/null; then
			case $real in /*) ;; *) real=$PWD/$real ;; esac
			printf '#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n' "$ns" "$real" >"$TMP/shrike-in-ns"
			chmod +x "$TMP/shrike-in-ns"
			SHRIKE=$TMP/shrike-in-ns
			net=(--net tap:tap0)
		fi
	fi
	for seed in 1 2; do
		run_vm 180 --kernel "$K/virtiofuzz.elf" --cmdline "rounds=300 seed=$seed" \
			--disk "$TMP/vfuzz.img" --rng --console virtio --vsock "cid=3,uds=$TMP/vfuzz.vsock" \
			"${net[@]}"
		expect "virtio_hostile_driver_seed$seed" 0 "every device resets and answers" PASS
		if grep -q "on $((4 + ${#net[@]} / 2)) devices" "$TMP/out"; then
			pass "virtio_hostile_driver_vsock_seed$seed"
		else
			fail "virtio_hostile_driver_vsock_seed$seed" "not $((4 + ${#net[@]} / 2)) devices: $(grep -a -m1 rounds "$TMP/out")"
		fi
		if [ ${#net[@]} -eq 0 ]; then
			skip "virtio_hostile_driver_net_seed$seed" "a tap in a namespace needs root and iproute2"
		elif grep -q "on 5 devices" "$TMP/out"; then
			pass "virtio_hostile_driver_net_seed$seed"
		else
			fail "virtio_hostile_driver_net_seed$seed" "not 5 devices: $(grep -a -m1 rounds "$TMP/out")"
		fi
	done
	SHRIKE=$saved
	ip netns del "$ns" 2>/dev/null
	[ "$(stat -c %s "$TMP/vfuzz.img")" = 4194304 ] && pass virtio_hostile_driver_disk_size_kept ||
		fail virtio_hostile_driver_disk_size_kept "$(stat -c %s "$TMP/vfuzz.img") bytes"
}

# The hostile driver's rounds do not grow shrike: its own memory (RSS less
# the guest's pages, which the random rings touch) after 600 rounds is
# within 1 MiB of what 120 rounds left.
t_virtio_hostile_driver_rss() {
	local rounds own=()
	truncate -s 4M "$TMP/vfuzz.img"
	for rounds in 120 600; do
		run_vm 360 --kernel "$K/virtiofuzz.elf" --cmdline "rounds=$rounds seed=3" \
			--disk "$TMP/vfuzz.img" --rng --console virtio --stats
		vmm_healthy virtio_hostile_driver_rss_flat || return
		own+=("$(sed -n 's/.*peak RSS less guest pages \([0-9]*\) KiB.*/\1/p' "$TMP/err")")
	done
	if [ -z "${own[0]}" ] || [ -z "${own[1]}" ]; then
		fail virtio_hostile_driver_rss_flat "no memory line in --stats: $(tail -2 "$TMP/err")"
	elif [ "${own[1]}" -gt $((own[0] + 1024)) ]; then
		fail virtio_hostile_driver_rss_flat "${own[0]} KiB after 120 rounds, ${own[1]} KiB after 600"
	else
		pass virtio_hostile_driver_rss_flat
		echo "  (shrike's own peak: ${own[0]} KiB after 120 rounds, ${own[1]} KiB after 600)"
	fi
}

# SIGTERM ends shrike through its exit path (status 143, --stats printed)
# with device threads running: they started before the main thread blocked
# the signal, and one of them taking it once killed shrike on the spot.
t_sigterm_with_device_threads() {
	local pid i
	truncate -s 1M "$TMP/term.img"
	"$SHRIKE" run --kernel "$K/spin.elf" --cmdline "ms=600000" --disk "$TMP/term.img" --rng \
		--console virtio --stats >"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	for i in $(seq 300); do grep -q "CPUs busy" "$TMP/out" 2>/dev/null && break; sleep 0.1; done
	end_by_sigterm $pid || { fail sigterm_with_device_threads "shrike ignored SIGTERM"; return; }
	if [ "$status" -ne 143 ] || ! grep -q "virtio-rng (PCI" "$TMP/err"; then
		fail sigterm_with_device_threads "status $status, no --stats: $(tail -2 "$TMP/err")"
	else
		pass sigterm_with_device_threads
	fi
}

# Hybrid vsock's CONNECT time limit: a client that never sends its line, and
# one whose guest never answers (here no driver at all), each see their
# socket closed after 10 s, counted in --stats, shrike unharmed.
t_vsock_connect_timeout() {
	local pid i waited
	"$SHRIKE" run --kernel "$K/spin.elf" --cmdline "ms=600000" --vsock "cid=3,uds=$TMP/to.vsock" \
		--stats >"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	for i in $(seq 300); do [ -S "$TMP/to.vsock" ] && break; sleep 0.1; done
	waited=$(timeout 120 python3 - "$TMP/to.vsock" <<'PY'
import socket, sys, time
silent, asking = (socket.socket(socket.AF_UNIX) for _ in range(2))
for s in (silent, asking):
    s.connect(sys.argv[1])
    s.settimeout(100)
asking.sendall(b'CONNECT 5000\n')
t0 = time.time()
def closed_after(s):
    try:
        got = s.recv(1)
    except ConnectionResetError:   # closed with its line unread
        got = b''
    return time.time() - t0 if got == b'' else -1
print(' '.join('%.1f' % closed_after(s) for s in (silent, asking)))
PY
)
	end_by_sigterm $pid || { fail vsock_connect_timeout "shrike ignored SIGTERM"; return; }
	# Each closed after about 10 s (the time limit; up to 30 on a slow host).
	if [ "$status" -ne 143 ] || ! grep -q "2 timed out" "$TMP/err" ||
		! echo "$waited" | awk '{ exit !($1 >= 9.5 && $1 < 30 && $2 >= 9.5 && $2 < 30) }'; then
		fail vsock_connect_timeout "closed after '$waited' s, status $status: $(grep 'vsock cid' "$TMP/err")"
	else
		pass vsock_connect_timeout
		echo "  (closed after $waited s)"
	fi
}

suite_devices() {
	if ! have_kvm; then
		skip device_tests "$NO_KVM_REASON"
		return
	fi
	t_vmport_commands
	t_vmport_cpl3
	t_vapic
	t_pc_testdev
	t_virtio_hostile_driver
	t_virtio_hostile_driver_rss
	t_sigterm_with_device_threads
	t_vsock_connect_timeout
}
