# Linux guests (issue 5): Debian's cloud kernel through the boot protocol,
# through PVH (vmlinux), and decompressed on the host, with shrike's
# interrupt controllers and with KVM's (issue 12); the early milestones up
# to "smpboot: Allowing N CPUs" are checked.  On a KVM back-end that
# emulates every CPL 0 instruction the full boot to /init takes minutes:
# bench/linux-emulated.sh.
# Minutes on such a back-end: `make check-linux`, not `make check`.
SUITES="${SUITES:-}"
IMG=guest-images/linux

# linux_run NAME CPUS SECONDS ARGS...: runs until "Allowing" or the end.
linux_run() {
	local name=$1 cpus=$2 secs=$3 pid i
	shift 3
	"$SHRIKE" run --cpus "$cpus" --memory 256M --initrd "$IMG/initramfs.cpio.gz" \
		--cmdline "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1" "$@" \
		>"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	for i in $(seq $((secs * 10))); do
		kill -0 $pid 2>/dev/null || break
		grep -q "smpboot: Allowing" "$TMP/out" && break
		sleep 0.1
	done
	if kill -0 $pid 2>/dev/null; then
		kill -TERM $pid
		wait $pid
		status=$?
		[ $status -eq 143 ] && status=stopped
	else
		wait $pid
		status=$?
	fi
}

linux_expect() {
	local name=$1 cpus=$2 p
	if grep -qE 'AddressSanitizer|runtime error:' "$TMP/err"; then
		fail "$name" "sanitizer report"; return
	fi
	case $status in
	stopped | 0) ;;
	1) grep -q "KVM internal error, suberror 1 (emulation failure)" "$TMP/err" ||
		{ fail "$name" "status 1 without an emulation-failure report: $(tail -2 "$TMP/err")"; return; } ;;
	*) fail "$name" "status $status: $(tail -2 "$TMP/err")"; return ;;
	esac
	for p in "Linux version " \
		"BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable" \
		"BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved" \
		"BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable" \
		"BIOS-e820: [mem 0x00000000c0000000-0x00000000c00fffff] reserved" \
		"ACPI: RSDP 0x00000000000E0000" "ACPI: APIC 0x" \
		"smpboot: Allowing $cpus CPUs, 0 hotplug CPUs"; do
		grep -qF -- "$p" "$TMP/out" || { fail "$name" "kernel log lacks '$p'"; return; }
	done
	[ "$(grep -c 'BIOS-e820:' "$TMP/out")" -eq 4 ] ||
		{ fail "$name" "e820 map differs: $(grep 'BIOS-e820' "$TMP/out" | tr '\n' '|')"; return; }
	pass "$name"
}

suite_linux() {
	local cpus pid
	if ! have_kvm; then
		skip linux_guest_tests "$NO_KVM_REASON"
		return
	fi
	if ! scripts/make-linux-image.sh >"$TMP/img.log" 2>&1; then
		skip linux_guest_tests "no guest image: $(tail -1 "$TMP/img.log")"
		return
	fi
	export XDG_CACHE_HOME=$TMP/cache
	for cpus in 1 2; do
		linux_run pvh "$cpus" 180 --kernel "$IMG/vmlinux"
		linux_expect "linux_vmlinux_pvh_${cpus}cpu" "$cpus"
		linux_run pvh "$cpus" 180 --kernel "$IMG/vmlinux" --irqchip kernel
		linux_expect "linux_vmlinux_pvh_kernel_irqchip_${cpus}cpu" "$cpus"
		linux_run hostdecomp "$cpus" 180 --kernel "$IMG/bzImage" --stats
		linux_expect "linux_bzimage_host_decompression_${cpus}cpu" "$cpus"
		linux_run protocol "$cpus" 400 --kernel "$IMG/bzImage" --kernel-boot protocol
		linux_expect "linux_bzimage_boot_protocol_${cpus}cpu" "$cpus"
	done
	# The host-side decompression gives what the independent lz4 tool gives,
	# and a second start takes it from the cache.
	# (a cache entry is a 4 KiB header page, then the payload)
	if tail -c +4097 "$(ls "$TMP"/cache/shrike/vmlinux-* 2>/dev/null | head -1)" 2>/dev/null |
		cmp -s "$IMG/vmlinux" -; then
		pass linux_decompression_matches_lz4_tool
	else
		fail linux_decompression_matches_lz4_tool "cached vmlinux differs from lz4 -dc"
	fi
	"$SHRIKE" run --kernel "$IMG/bzImage" --serial none --stats --memory 256M \
		>/dev/null 2>"$TMP/err" </dev/null &
	pid=$!
	sleep 3
	kill -TERM $pid 2>/dev/null
	wait $pid
	grep -q "taken from the cache" "$TMP/err" && pass linux_decompression_cache_reused ||
		fail linux_decompression_cache_reused "$(grep 'boot:' "$TMP/err")"
}
