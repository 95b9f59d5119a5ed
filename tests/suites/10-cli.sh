# The command line and bad input: one line on stderr, exit status 2.
SUITES="${SUITES:-} cli"

usage_error() {
	local name=$1 pattern=$2
	shift 2
	"$SHRIKE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	status=$?
	vmm_healthy "$name" || return
	if [ "$status" -ne 2 ]; then
		fail "$name" "exit status $status, expected 2"; return
	fi
	if [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		fail "$name" "expected one line on stderr, got: $(tr '\n' '|' <"$TMP/err")"; return
	fi
	if ! grep -qF -- "$pattern" "$TMP/err"; then
		fail "$name" "stderr lacks '$pattern': $(cat "$TMP/err")"; return
	fi
	pass "$name"
}

suite_cli() {
	head -c 4000 /dev/urandom >"$TMP/random.img"
	head -c 5000 "$K/hello.elf" >"$TMP/truncated.elf"
	usage_error cli_no_arguments "missing command"
	usage_error cli_unknown_command "unknown command" frob
	usage_error cli_unknown_option "unknown option '--frob'" run --kernel "$K/hello.elf" --frob 1
	usage_error cli_missing_kernel_option "--kernel is required" run --cpus 2
	usage_error cli_missing_kernel_file "cannot open" run --kernel "$TMP/nope.elf"
	usage_error cli_kernel_is_directory "not a regular file" run --kernel "$TMP"
	usage_error cli_malformed_kernel "unrecognised kernel format" run --kernel "$TMP/random.img"
	usage_error cli_truncated_kernel "truncated" run --kernel "$TMP/truncated.elf"
	usage_error cli_memory_zero "--memory" run --kernel "$K/hello.elf" --memory 0
	usage_error cli_memory_not_page_multiple "not a multiple of 4 KiB" run --kernel "$K/hello.elf" \
		--memory 1000001K
	usage_error cli_memory_beyond_host "exceeds the host" run --kernel "$K/hello.elf" --memory 64T
	usage_error cli_cpus_zero "--cpus" run --kernel "$K/hello.elf" --cpus 0
	usage_error cli_bad_sync_mode "unknown value" run --kernel "$K/hello.elf" --sync eager
	usage_error cli_missing_initrd "cannot open" run --kernel "$K/hello.elf" --initrd "$TMP/none"
	usage_error cli_net_not_a_tap "expected tap:IFNAME" run --kernel "$K/hello.elf" --net user
	usage_error cli_net_closed_fd "no open descriptor 9999" run --kernel "$K/hello.elf" --net tap-fd:9999
	usage_error cli_net_bad_mac "mac=M" run --kernel "$K/hello.elf" --net tap:t0,mac=ff:ff:ff:ff:ff:ff
	usage_error cli_net_same_id "a card with id n0 already" run --kernel "$K/hello.elf" --net tap:t0,id=n0 --net tap:t1,id=n0
	usage_error cli_vsock_needs_cid "cid=N is required" run --kernel "$K/hello.elf" --vsock uds=/tmp/x
	usage_error cli_vsock_host_cid "from 3 to 4294967294" run --kernel "$K/hello.elf" --vsock cid=2
	usage_error cli_vsock_any_cid "from 3 to 4294967294" run --kernel "$K/hello.elf" --vsock cid=4294967295
	usage_error cli_vsock_unknown_option "unknown or malformed option 'port=1'" run --kernel "$K/hello.elf" --vsock cid=3,port=1
	usage_error cli_vsock_once "one vsock device at most" run --kernel "$K/hello.elf" --vsock cid=3 --vsock cid=4
	if have_kvm; then
		usage_error cli_cpus_above_kvm_limit "exceeds KVM's limit" run --kernel "$K/hello.elf" --cpus 100000
	else
		skip cli_cpus_above_kvm_limit "$NO_KVM_REASON"
	fi
	"$SHRIKE" --help >"$TMP/out" 2>&1 && grep -q -- "--trace-sync" "$TMP/out" &&
		pass cli_help || fail cli_help "--help failed"
}
