#!/usr/bin/env bash
# Copies kernel modules and everything they depend on (read from each
# module's .modinfo) into DEST, and writes DEST/order: the names, each after
# its dependencies, for an init that insmods them in that order.
#   scripts/kmodules.sh MODULE_TREE DEST NAME...
# MODULE_TREE: an unpacked lib/modules/VERSION/kernel.  Needs objcopy.
set -euo pipefail
moddir=$1
dest=$2
shift 2
mkdir -p "$dest"
order=

# module NAME: its path under $moddir (names use - and _ interchangeably).
module_path() {
	local n=$1 alt=${1//_/-}
	find "$moddir" \( -name "$n.ko" -o -name "$alt.ko" -o -name "${n//-/_}.ko" \) -print -quit
}

add_module() {
	local name=$1 path dep
	case " $order " in *" $name "*) return ;; esac
	path=$(module_path "$name")
	[ -n "$path" ] || { echo "kmodules: module $name is not in $moddir" >&2; exit 1; }
	for dep in $(objcopy -O binary --only-section=.modinfo "$path" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep"
	done
	order="$order $name"
	cp "$path" "$dest/$name.ko"
}

for m in "$@"; do add_module "$m"; done
echo "$order" | tr ' ' '\n' | sed '/^$/d' >"$dest/order"
