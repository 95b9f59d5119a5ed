#!/usr/bin/env bash
# Builds the nested test VM's kernel and initramfs into guest-images/nested/
# (ignored by git; kept between runs):
#   vmlinuz           Debian's generic kernel (linux-image-amd64's), which
#                     has kvm-amd as a module; the package is unpacked here
#                     with dpkg -x, never installed (no /boot, no bootloader)
#   initrd.cpio.gz    busybox-static, the modules the VM needs (virtio-pci,
#                     9p, overlayfs, kvm, kvm-amd, tun, vhost-vsock) with
#                     their dependencies
#                     read from each module's .modinfo, and tests/nested/init
# Needs: apt-get (with a package list), dpkg, cpio, gzip, objcopy, busybox.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-guest-images/nested}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$PWD
INIT=$ROOT/tests/nested/init
# tun: the network tests' taps; vhost_vsock: /dev/vhost-vsock for the vsock
# tests; vhost_net: QEMU's vhost=on in bench/net.sh.  A different list makes the initrd again.
MODULES="virtio_pci 9pnet_virtio 9p overlay kvm-amd tun vhost_vsock vhost_net"
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.cpio.gz" ] && [ "$OUT/initrd.cpio.gz" -nt "$INIT" ] &&
	[ "$(cat "$OUT/modules.list" 2>/dev/null)" = "$MODULES" ]; then
	exit 0
fi
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q dynamic && busybox=
[ -x /bin/busybox ] && busybox=/bin/busybox
[ -n "$busybox" ] || { echo "nested image: busybox (busybox-static) is missing" >&2; exit 1; }
for tool in cpio gzip objcopy dpkg; do
	command -v $tool >/dev/null || { echo "nested image: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d "$OUT/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
if [ ! -s "$OUT/kernel.deb" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || { echo "nested image: no linux-image-amd64 in the package lists (apt-get update?)" >&2; exit 1; }
	apt-get download "$pkg" >/dev/null 2>apt.err || { echo "nested image: apt-get download $pkg failed: $(tail -1 apt.err)" >&2; exit 1; }
	mv "$pkg"_*.deb "$OUT/kernel.deb"
	echo "$pkg" >"$OUT/kernel-package"
fi
dpkg -x "$OUT/kernel.deb" kernel
kver=$(ls kernel/lib/modules)
moddir=kernel/lib/modules/$kver/kernel

mkdir -p root/bin root/proc root/sys root/dev root/host root/ctl root/work root/ovl root/newroot
# shellcheck disable=SC2086
"$ROOT/scripts/kmodules.sh" "$moddir" root/lib/modules $MODULES
cp "$busybox" root/bin/busybox
for l in sh mount umount mkdir insmod cat echo poweroff sync ip chroot sleep grep; do
	ln -sf busybox root/bin/$l
done
cp "$INIT" root/init
chmod 755 root/init
(cd root && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1 -n) >"$OUT/initrd.cpio.gz.tmp"
cp kernel/boot/vmlinuz-* "$OUT/vmlinuz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initrd.cpio.gz.tmp" "$OUT/initrd.cpio.gz"
echo "$MODULES" >"$OUT/modules.list"
