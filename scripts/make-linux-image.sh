#!/usr/bin/env bash
# Builds the Linux guest image from Debian's packages, into guest-images/
# (ignored by git; kept between runs):
#   bzImage            the cloud kernel (linux-image-*-cloud-amd64)
#   vmlinux            its payload, decompressed with the lz4 command-line tool
#   initramfs.cpio.gz  busybox-static and scripts/linux-init as /init (it
#                      reports the CPU count and memory, does what
#                      shrike.mode= asks, then powers off); remade when
#                      scripts/linux-init changes
#   modules/           the kernel's virtio modules (PCI transport, blk, rng,
#                      console, net, vsock) with their dependencies, for
#                      shrike.mode=virtio; modules/list names them, and a
#                      different list makes the image again
# Needs: apt-get (with a package list), dpkg, cpio, gzip, lz4, objcopy, gcc.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-guest-images/linux}
ROOT=$PWD
INIT=$ROOT/scripts/linux-init
MODULES="virtio_pci virtio_blk virtio_rng virtio_console virtio_net vmw_vsock_virtio_transport"
VSOCKT=$ROOT/guest/linux/vsockt.c
mkdir -p "$OUT"
cd "$OUT"

# The initramfs from the busybox kept beside it, and the init script.
make_initramfs() {
	rm -rf root && mkdir -p root/bin root/proc root/sys root/dev
	cp busybox root/bin/
	for l in sh mount umount mkdir cat grep awk uname poweroff reboot sleep insmod ls dd head od \
		sync blkdiscard mke2fs ip ping wget sha256sum nc; do
		ln -sf busybox root/bin/$l
	done
	mkdir -p root/lib/modules
	cp modules/* root/lib/modules/
	# vsockt: nc for vsock (busybox has none), built here, static.
	gcc -std=c11 -O2 -Wall -Wextra -Werror -static -o root/bin/vsockt "$VSOCKT"
	mknod -m 600 root/dev/console c 5 1
	cp "$INIT" root/init
	chmod 755 root/init
	(cd root && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 -n) >initramfs.cpio.gz.tmp
	rm -rf root
	mv initramfs.cpio.gz.tmp initramfs.cpio.gz
}

if [ -s bzImage ] && [ -s vmlinux ] && [ -s busybox ] && [ -s modules/order ] &&
	[ "$(cat modules/list 2>/dev/null)" = "$MODULES" ]; then
	[ -s initramfs.cpio.gz ] && [ initramfs.cpio.gz -nt "$INIT" ] &&
		[ initramfs.cpio.gz -nt "$VSOCKT" ] || make_initramfs
	exit 0
fi
for tool in cpio lz4 gzip objcopy; do
	command -v $tool >/dev/null || { echo "make-linux-image: $tool is missing" >&2; exit 1; }
done
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "make-linux-image: no linux-image-cloud-amd64 in the package lists (apt-get update?)" >&2; exit 1; }
rm -rf work && mkdir work && cd work
apt-get download "$pkg" busybox-static >/dev/null
dpkg -x "$pkg"_*.deb kernel
dpkg -x busybox-static_*.deb busybox
cp kernel/boot/vmlinuz-* ../bzImage.tmp

# The payload as the kernel's own decompressor sees it (setup header
# 0x1f1, 0x248, 0x24c), decompressed by the independent lz4 tool.
setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 ../bzImage.tmp | tr -d ' ')
[ "$setup_sects" -eq 0 ] && setup_sects=4
offset=$(od -An -tu4 -j $((0x248)) -N4 ../bzImage.tmp | tr -d ' ')
length=$(od -An -tu4 -j $((0x24c)) -N4 ../bzImage.tmp | tr -d ' ')
dd if=../bzImage.tmp of=payload bs=1M iflag=skip_bytes,count_bytes skip=$(((setup_sects + 1) * 512 + offset)) count="$length" status=none
lz4 -dc payload >../vmlinux.tmp 2>/dev/null || true   # the trailing size word upsets lz4 -d
[ -s ../vmlinux.tmp ] || { echo "make-linux-image: lz4 -dc of the payload failed" >&2; exit 1; }

cp busybox/bin/busybox ../busybox
rm -rf ../modules
# shellcheck disable=SC2086
"$ROOT/scripts/kmodules.sh" "$(echo kernel/lib/modules/*/kernel)" ../modules $MODULES
echo "$MODULES" >../modules/list
cd ..
mv bzImage.tmp bzImage
mv vmlinux.tmp vmlinux
make_initramfs
echo "$pkg" >kernel-package
rm -rf work
