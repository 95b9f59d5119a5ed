#!/bin/sh
# The Debian packages shrike needs, installed when missing.
#   scripts/deps.sh build   what `make` needs to compile
#   scripts/deps.sh test    and what `make check` uses (python3, gdb, qemu
#                           for the side-by-side tests and the nested test
#                           VM, busybox-static, cpio and lz4; iproute2 for
#                           the network tests' namespaces)
#   scripts/deps.sh nested  what the nested test VM needs (make demo without
#                           /dev/kvm)
# As root: apt-get installs them.  Otherwise: one line with the command to
# run, and status 1.  Where dpkg is missing (not Debian), nothing is checked.
set -u
BUILD_PKGS="gcc make binutils libc6-dev liblz4-dev zlib1g-dev liblzma-dev libzstd-dev libbz2-dev nettle-dev libzydis-dev libseccomp-dev liburing-dev"
TEST_PKGS="python3 gdb qemu-system-x86 cpio lz4 clang libclang-rt-14-dev busybox-static iproute2"

# The nested test VM (tests/nested/): QEMU, busybox, and what builds its image.
NESTED_PKGS="python3 qemu-system-x86 busybox-static cpio"

case "${1:-build}" in
build) want=$BUILD_PKGS ;;
nested) want=$NESTED_PKGS ;;
test) want="$BUILD_PKGS $TEST_PKGS" ;;
*) echo "usage: $0 build|test|nested" >&2; exit 2 ;;
esac
command -v dpkg-query >/dev/null || exit 0
missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "shrike: missing Debian packages:$missing; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "shrike: installing$missing (apt-get)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
	echo "shrike: apt-get install$missing failed:" >&2
	tail -5 "$log" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
