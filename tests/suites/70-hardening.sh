# Hardening (issue 14): each finding of ../shared/reviews/security-review-1.md
# reproduced and shown fixed.
SUITES="${SUITES:-} hardening"
IMAGES=tests/tools/images.py


# Finding 1: two bzImages with the same size and FNV-1a 64 hash (the old
# cache key) boot their own kernels, whichever was cached first.
t_cache_collision() {
	local want a b c="$TMP/cache-coll"
	want=$(python3 $IMAGES collide "$TMP/coll-a.bz" "$TMP/coll-b.bz") ||
		{ fail cache_fnv_collision_boots_own_kernels "cannot build the images"; return; }
	a=${want% *}
	b=${want#* }
	XDG_CACHE_HOME=$c run_vm 30 --kernel "$TMP/coll-b.bz" --serial none
	[ "$status" -eq "$b" ] || { fail cache_fnv_collision_boots_own_kernels "B gave $status, want $b"; return; }
	XDG_CACHE_HOME=$c run_vm 30 --kernel "$TMP/coll-a.bz" --serial none
	[ "$status" -eq "$a" ] || { fail cache_fnv_collision_boots_own_kernels "A after B gave $status, want $a"; return; }
	[ "$(ls "$c/shrike" | grep -c '^vmlinux-')" -eq 2 ] && pass cache_fnv_collision_boots_own_kernels ||
		fail cache_fnv_collision_boots_own_kernels "expected two cache entries: $(ls "$c/shrike")"
}

# Finding 2: a link planted at the entry's name is not followed; the image
# still boots and the link's target is untouched.
t_cache_planted_link() {
	local c="$TMP/cache-link" name
	python3 $IMAGES bzimage "$TMP/link.bz" 21
	name=vmlinux-$(sha256sum "$TMP/link.bz" | cut -d' ' -f1)
	mkdir -p "$c/shrike"
	chmod 700 "$c/shrike"
	printf 'precious\n' >"$TMP/victim"
	ln -s "$TMP/victim" "$c/shrike/$name"
	XDG_CACHE_HOME=$c run_vm 30 --kernel "$TMP/link.bz" --serial none
	if [ "$status" -eq 43 ] && [ "$(cat "$TMP/victim")" = precious ] && [ ! -L "$c/shrike/$name" ]; then
		pass cache_planted_link_not_followed
	else
		fail cache_planted_link_not_followed "status $status, victim '$(cat "$TMP/victim")'"
	fi
	chmod 777 "$c/shrike"
	XDG_CACHE_HOME=$c run_vm 30 --kernel "$TMP/link.bz" --serial none --stats
	[ "$status" -eq 43 ] && grep -q "not cached: .* is writable by others" "$TMP/err" &&
		pass cache_dir_writable_by_others_refused ||
		fail cache_dir_writable_by_others_refused "status $status: $(grep boot: "$TMP/err")"
}

# Finding 7: decompression bombs are refused within the limits, at once.
t_decompression_bomb() {
	local t0 t1
	python3 $IMAGES bomb "$TMP/bomb-claim.bz" 600 600
	python3 $IMAGES bomb "$TMP/bomb-lie.bz" 16 600
	t0=$(date +%s%N)
	XDG_CACHE_HOME=$TMP/cache-bomb run_vm 30 --kernel "$TMP/bomb-claim.bz" --serial none
	[ "$status" -eq 2 ] && grep -q "implausible decompressed size" "$TMP/err" ||
		{ fail decompression_bomb_refused "claimed 600 MiB: status $status, $(cat "$TMP/err")"; return; }
	XDG_CACHE_HOME=$TMP/cache-bomb run_vm 30 --kernel "$TMP/bomb-lie.bz" --serial none
	t1=$(date +%s%N)
	[ "$status" -eq 2 ] && grep -q "corrupt gzip payload" "$TMP/err" ||
		{ fail decompression_bomb_refused "inflates past its claim: status $status, $(cat "$TMP/err")"; return; }
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] && [ -z "$(ls "$TMP/cache-bomb/shrike" 2>/dev/null)" ] &&
		pass decompression_bomb_refused ||
		fail decompression_bomb_refused "took $(((t1 - t0) / 1000000)) ms or left a cache entry"
}

# Finding 3: stdout a FIFO that is never read; SIGTERM still ends shrike
# within a second (the guest prints without waiting for the UART).
t_blocked_output_sigterm() {
	local pid i t0 t1
	mkfifo "$TMP/fifo"
	exec 7<>"$TMP/fifo"
	"$SHRIKE" run --kernel "$K/spam.elf" --cmdline forever >"$TMP/fifo" 2>"$TMP/err" </dev/null &
	pid=$!
	sleep 2
	t0=$(date +%s%N)
	kill -TERM $pid
	for i in $(seq 40); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	t1=$(date +%s%N)
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid
		wait $pid
		exec 7>&-
		fail blocked_output_sigterm "still running 2 s after SIGTERM"
		return
	fi
	wait $pid
	status=$?
	exec 7>&-
	[ "$status" -eq 143 ] && [ $(((t1 - t0) / 1000000)) -lt 1000 ] && pass blocked_output_sigterm ||
		fail blocked_output_sigterm "status $status after $(((t1 - t0) / 1000000)) ms"
}

# Finding 3: a reader slower than the guest loses no byte: the vCPU waits.
# (The 10 MB run of the issue takes minutes here: make check-long.)
serial_slow_reader() {
	local name=$1 kib=$2 sleep=$3 want got
	"$SHRIKE" run --kernel "$K/spam.elf" --cmdline "kib=$kib" --stats 2>"$TMP/err" </dev/null |
		python3 -c '
import hashlib, sys, time
h, n, pause = hashlib.sha256(), 0, float(sys.argv[1])
while True:
    d = sys.stdin.buffer.read1(4096)
    if not d:
        break
    h.update(d); n += len(d)
    time.sleep(pause)
print(n, h.hexdigest())' "$sleep" >"$TMP/got"
	status=${PIPESTATUS[0]}
	want=$(python3 -c '
import hashlib, sys
kib = int(sys.argv[1])
blk = bytes((10 if i % 100 == 99 else 65 + i % 26) for i in range(4000))
body = (blk * (kib * 1024 // 4000 + 1))[:kib * 1024]
out = b"spam: start\r\n" + body + b"\r\nspam: done\r\nPASS\r\n"
print(len(out), hashlib.sha256(out).hexdigest())' "$kib")
	got=$(cat "$TMP/got")
	if [ "$status" -eq 0 ] && [ "$got" = "$want" ] && grep -q "dropped: 0 (backend gone), 0 " "$TMP/err"; then
		pass "$name"
		echo "  $(grep 'stats: serial' "$TMP/err" | sed 's/.*stats: //')"
	else
		fail "$name" "status $status, got '$got', want '$want'"
	fi
}

# Finding 5: a reader that goes away (| head -1): the guest still ends the
# VM with its own status (not SIGPIPE's 141), the lost bytes are counted,
# and the terminal (a pty from script) is left as it was.
t_reader_gone() {
	if ! command -v script >/dev/null; then
		skip serial_reader_gone_terminal_restored "script(1) is not installed"; return
	fi
	cat >"$TMP/head.sh" <<EOF
stty -g >"$TMP/tty-before"
"$SHRIKE" run --kernel "$K/spam.elf" --cmdline kib=64 --stats 2>"$TMP/err" | head -1 >"$TMP/head"
echo \${PIPESTATUS[0]} >"$TMP/head-status"
stty -g >"$TMP/tty-after"
EOF
	timeout "$(limit 60)" script -qec "bash $TMP/head.sh" /dev/null >/dev/null 2>&1
	status=$(cat "$TMP/head-status" 2>/dev/null || echo none)
	if [ "$status" = 0 ] && grep -q "spam: start" "$TMP/head" &&
		grep -qE "dropped: [1-9][0-9]* \(backend gone\)" "$TMP/err" &&
		cmp -s "$TMP/tty-before" "$TMP/tty-after"; then
		pass serial_reader_gone_terminal_restored
	else
		fail serial_reader_gone_terminal_restored "status $status; $(grep 'stats: serial' "$TMP/err")"
	fi
}

# Finding 5: a fatal signal restores the terminal before it kills shrike.
t_fatal_signal_restores_terminal() {
	if ! command -v script >/dev/null; then
		skip fatal_signal_restores_terminal "script(1) is not installed"; return
	fi
	cat >"$TMP/segv.sh" <<EOF
stty -g >"$TMP/tty-before"
"$SHRIKE" run --kernel "$K/spin.elf" --cmdline ms=60000 </dev/tty >/dev/null 2>&1 &
pid=\$!
for i in \$(seq 100); do stty -g | cmp -s - "$TMP/tty-before" || break; sleep 0.05; done
stty -g >"$TMP/tty-raw"
kill -SEGV \$pid
wait \$pid
echo \$? >"$TMP/segv-status"
stty -g >"$TMP/tty-after"
EOF
	timeout "$(limit 60)" script -qec "bash $TMP/segv.sh" /dev/null >/dev/null 2>&1
	status=$(cat "$TMP/segv-status" 2>/dev/null || echo none)
	# Under the sanitizers their handler reports the signal and exits 1.
	case "$BUILD:$status" in *-asan:1 | *-tsan:1) status=139 ;; esac
	if [ "$status" = 139 ] && ! cmp -s "$TMP/tty-before" "$TMP/tty-raw" &&
		cmp -s "$TMP/tty-before" "$TMP/tty-after"; then
		pass fatal_signal_restores_terminal
	else
		fail fatal_signal_restores_terminal "status $status; raw mode seen: $(cmp -s "$TMP/tty-before" "$TMP/tty-raw" && echo no || echo yes)"
	fi
}

# Finding 4: the RTC driven to its limits returns only valid values (and,
# in the sanitizer build, without undefined behaviour).
t_rtc_limits() {
	run_vm 60 --kernel "$K/rtcyear.elf"
	expect rtc_year_limit_valid_values 0 "rtcyear: every value in range"
}

# Finding 6: the kernel file truncated before a reset: the reset boots the
# bytes validated at start, and says that the file changed.
t_reset_after_truncate() {
	local pid i
	cp "$K/reboot.elf" "$TMP/k.elf"
	"$SHRIKE" run --kernel "$TMP/k.elf" --cmdline "source=host boots=2" >"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	for i in $(seq 300); do grep -q "waiting for a host reset" "$TMP/out" && break; sleep 0.1; done
	truncate -s 4096 "$TMP/k.elf"
	kill -HUP $pid
	for i in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && { kill -9 $pid; wait $pid; fail reset_after_truncate "hung"; return; }
	wait $pid
	status=$?
	expect reset_after_truncate_boots_original 0 "reboot: 2 boots counted" || return
	grep -q "k.elf changed since the VM started" "$TMP/err" && pass reset_after_truncate_says_so ||
		fail reset_after_truncate_says_so "no line on stderr: $(cat "$TMP/err")"
}

# Finding 8: an empty initrd.
t_empty_initrd() {
	: >"$TMP/empty"
	run_vm 30 --kernel "$K/hello.elf" --initrd "$TMP/empty"
	expect empty_initrd_boots 0 "Hello from a shrike test kernel!"
}

# Finding 10: guest debug-exit values that look like shrike's own statuses.
t_debug_exit_collision() {
	run_vm 30 --kernel "$K/exitcode.elf" --cmdline "value=68 size=1"
	[ "$status" -eq 137 ] && grep -q "guest debug-exit value 0x44: exit status 137" "$TMP/err" ||
		{ fail debug_exit_collision_named "status $status: $(cat "$TMP/err")"; return; }
	pass debug_exit_collision_named
	run_vm 30 --kernel "$K/exitcode.elf" --cmdline "value=68 size=1" --debug-exit-status distinct
	[ "$status" -eq 127 ] && pass debug_exit_status_distinct ||
		fail debug_exit_status_distinct "status $status"
	run_vm 30 --kernel "$K/exitcode.elf" --cmdline "value=21 size=1" --debug-exit-status distinct
	[ "$status" -eq 43 ] || fail debug_exit_status_distinct_plain "status $status"
}

# Finding 11: every descriptor of a running shrike is close-on-exec.
t_fds_cloexec() {
	local pid i bad="" inherited
	# Descriptors this shell passes on (make's jobserver, ...) are not shrike's.
	inherited=" $(ls /proc/$$/fd | tr '\n' ' ')"
	"$SHRIKE" run --kernel "$K/spin.elf" --cpus 2 --cmdline ms=60000 >"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	for i in $(seq 100); do grep -q "spin:" "$TMP/out" && break; sleep 0.1; done
	for f in /proc/$pid/fdinfo/*; do
		n=${f##*/}
		[ "$n" -le 2 ] && continue
		case "$inherited " in *" $n "*) continue ;; esac
		flags=$(awk '/^flags:/ {print $2}' "$f" 2>/dev/null) || continue
		[ -n "$flags" ] && [ $((8#$flags & 8#2000000)) -eq 0 ] && bad="$bad $n:$(readlink /proc/$pid/fd/$n)"
	done
	kill -TERM $pid
	wait $pid
	[ -z "$bad" ] && pass fds_close_on_exec || fail fds_close_on_exec "without O_CLOEXEC:$bad"
}

# Every thread of a running shrike is under its filter (Seccomp: 2) with
# no new privileges; --seccomp off leaves them unfiltered.
t_sandbox_threads() {
	local pid i want=$1 mode=$2 status_lines bad
	"$SHRIKE" run --kernel "$K/spin.elf" --cpus 2 --cmdline ms=20000 --serial none \
		--seccomp "$mode" >/dev/null 2>"$TMP/err" </dev/null &
	pid=$!
	for i in $(seq 100); do
		status_lines=$(cat /proc/$pid/task/*/status 2>/dev/null | grep -E '^(Seccomp|NoNewPrivs):')
		[ "$(printf '%s\n' "$status_lines" | grep -c "^Seccomp:[[:space:]]*$want")" -ge 3 ] && break
		sleep 0.05
	done
	bad=$(printf '%s\n' "$status_lines" | grep -vE "^(Seccomp:[[:space:]]*$want|NoNewPrivs:[[:space:]]*$([ "$want" = 2 ] && echo 1 || echo 0))$")
	kill -TERM $pid
	wait $pid
	if [ -z "$bad" ] && [ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" = 0 ] &&
		[ "$(printf '%s\n' "$status_lines" | grep -c Seccomp)" -ge 3 ]; then
		pass "sandbox_threads_seccomp_$mode"
	else
		fail "sandbox_threads_seccomp_$mode" "$(printf '%s' "$status_lines" | tr '\n' ' ')"
	fi
}

# Both vCPUs write random values of random sizes (and string I/O) to every
# device port while resets come and go; the VMM must stay up, sanitizer
# clean, and end on SIGTERM as usual.
t_port_fuzzer() {
	local mode boots
	for mode in split kernel; do
		timeout --preserve-status -s TERM -k 5 12 "$SHRIKE" run --kernel "$K/portfuzz.elf" --cpus 2 \
			--irqchip "$mode" --cmdline "seed=$RANDOM" >"$TMP/out" 2>"$TMP/err" </dev/null
		status=$?
		boots=$(grep -ac "portfuzz: boot" "$TMP/out")
		if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$TMP/err"; then
			fail "port_fuzzer_$mode" "sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$TMP/err")"
		elif [ $status -ne 143 ] || [ "$boots" -lt 3 ]; then
			fail "port_fuzzer_$mode" "status $status after $boots boots: $(tail -2 "$TMP/err")"
		else
			pass "port_fuzzer_$mode"
		fi
	done
}

suite_hardening() {
	if ! have_kvm; then
		skip hardening_guest_tests "$NO_KVM_REASON"
		return
	fi
	if have_python; then
		t_cache_collision
		t_cache_planted_link
		t_decompression_bomb
		serial_slow_reader serial_slow_reader_no_loss 256 0.2
	else
		skip hardening_image_tests "python3 is not installed"
	fi
	t_blocked_output_sigterm
	t_reader_gone
	t_fatal_signal_restores_terminal
	t_rtc_limits
	t_reset_after_truncate
	t_empty_initrd
	t_debug_exit_collision
	t_fds_cloexec
	t_port_fuzzer
	if "$SHRIKE" run --help | grep -q -- '--seccomp' && [ "$BUILD" = build ]; then
		t_sandbox_threads 2 on
		t_sandbox_threads 0 off
	else
		skip sandbox_threads "sanitizer builds run without the sandbox (Makefile)"
	fi
}
