# Fuzzing in the tree (issue 14): every libFuzzer target (fuzz/*.c) for a
# few seconds from its seed corpus, so that a regression in a parser of
# outside input is caught by make check; make fuzz runs them for longer.
SUITES="${SUITES:-} fuzz"

suite_fuzz() {
	local line n
	if [ "$BUILD" != build ]; then
		skip fuzz_targets "fuzzed once per make check, in the plain build (build-fuzz/)"
		return
	fi
	FUZZ_SECONDS=${FUZZ_SECONDS:-4} scripts/fuzz.sh >"$TMP/fuzz.out" 2>&1
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) n=${line#PASS }; pass "${n%%:*}" ;;
		FAIL\ *) n=${line#FAIL }; fail "${n%%:*}" "${n#*: }" ;;
		SKIP\ *) n=${line#SKIP }; skip "${n%%:*}" "${n#*: }" ;;
		esac
	done <"$TMP/fuzz.out"
}
