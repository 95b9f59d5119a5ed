#!/bin/sh
# The layers of src/ (DEVELOPERS.md, "Layers"): the folders a file's quoted
# includes may name.  Run by the build whenever a source changes (and by
# make check-layers); prints each include that breaks the rule and fails.
cd "$(dirname "$0")/.." || exit 2

# folder: the folders its files may include (itself always)
rules='
base:
x86: base
x86/emulate: base x86
core: base x86 loader
loader: base x86
hw: base core x86
virtio: base core hw
board: base core hw virtio x86
snapshot: base core x86 loader
control: base core x86 snapshot
gdb: base core x86 control
cli: base core x86 loader hw board snapshot control gdb virtio
'

status=0
violation() {
	echo "layers: $1 includes $2 ($3)"
	status=1
}

for f in $(find src -name '*.[ch]' | sort); do
	dir=${f#src/}
	dir=${dir%/*}
	[ "$dir" = "${f#src/}" ] && continue            # src/main.c: the top
	allowed=$(printf '%s\n' "$rules" | sed -n "s#^$dir: *##p")
	[ -n "$allowed" ] || [ "$dir" = base ] || { violation "$f" "?" "no rule for $dir/"; continue; }
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		idir=${inc%/*}
		top=${inc%%/*}
		case "$idir" in "$dir") continue ;; esac
		case "$dir" in x86/emulate) [ "$top" = x86 ] && [ "$idir" = x86 ] && continue ;; esac
		case "$dir" in x86) [ "$idir" = x86/emulate ] && continue ;; esac
		case " $allowed " in
		*" $top "*) ;;
		*) violation "$f" "$inc" "$dir/ may include: ${allowed:-nothing but itself}" ;;
		esac
	done
done
exit $status
