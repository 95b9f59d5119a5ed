# Tests that take minutes where KVM emulates every CPL 0 instruction: not
# in `make check`; `make check-long` runs them with the Linux suite.
# (No SUITES entry: they run only when named in SUITES_ONLY.)

# Issue 14: a guest printing 10 MB through a reader slower than it loses no
# byte (each byte of rep outsb is one exit here: about 3 minutes).
suite_long() {
	if ! have_kvm; then
		skip long_tests "$NO_KVM_REASON"
		return
	fi
	if ! have_python; then
		skip serial_slow_reader_10mb "python3 is not installed"
		return
	fi
	serial_slow_reader serial_slow_reader_10mb 10240 0.0005
}
