# Linux user space (issue 17): Debian's kernel reaches init through PVH and
# the boot protocol, on 1 and 2 vCPUs and both irqchips; init runs commands
# and reads /proc/cpuinfo; a guest reboot comes back to init; a snapshot
# taken in user space restores (tests/tools/linux_userspace.py).  Needs a
# KVM that runs guest user space: hardware, or the nested test VM.
SUITES="${SUITES:-} linux_image linux_userspace"

# The image is made (downloaded from Debian's mirror) by the part of make
# check that runs on this host: the nested test VM has no network.
suite_linux_image() {
	scripts/make-linux-image.sh >"$TMP/img.log" 2>&1 ||
		echo "  linux image: $(tail -1 "$TMP/img.log")"
}

suite_linux_userspace() {
	need_kvm_python linux_userspace || return
	if [ -d /sys/module/kvm_pvm ]; then
		skip linux_userspace "this host's KVM (kvm_pvm) never delivers SYSCALL from CPL 3: no guest user space (DEVELOPERS.md)"
		return
	fi
	if ! scripts/make-linux-image.sh >"$TMP/img.log" 2>&1; then
		fail linux_userspace "no guest image: $(tail -1 "$TMP/img.log")"
		return
	fi
	mkdir -p "$TMP/linux"
	# 17 cases, a stalled boot tried three times: more than the usual 900 s.
	PY_TEST_SECONDS=1800 XDG_CACHE_HOME=$TMP/cache run_py_test linux_userspace tests/tools/linux_userspace.py \
		"$SHRIKE" guest-images/linux "$TMP/linux" "$(limit 30)"
	rm -rf "$TMP/linux"
}
