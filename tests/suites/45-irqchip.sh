# The PIC, IOAPIC and PIT (issue 12): the same test kernel with KVM's chips
# (--irqchip kernel) and with shrike's (split), on 1, 2 and 4 vCPUs.
SUITES="${SUITES:-} irqchip"

suite_irqchip() {
	local mode c n extra
	if ! have_kvm; then
		skip irqchip_tests "$NO_KVM_REASON"
		return
	fi
	for mode in split kernel; do
		extra=0
		[ "$mode" = kernel ] && extra=1   # see ioapic_level in guest/tests/irqchip.c
		for c in pit_pic pit_ioapic pic_mask pic_priority pic_aeoi pic_level ioapic_level \
			serial_paths storm; do
			run_vm 60 --kernel "$K/irqchip.elf" --irqchip "$mode" --serial stdio \
				--cmdline "case=$c extra=$extra"
			expect "irqchip_${mode}_$c" 0 PASS
		done
		for n in 1 2 4; do
			run_vm 90 --kernel "$K/irqchip.elf" --irqchip "$mode" --cpus "$n" \
				--cmdline "case=ioapic_dest"
			expect "irqchip_${mode}_ioapic_dest_${n}cpu" 0 PASS
		done
	done
	# Without --irqchip, split is used where KVM offers it.
	run_vm 20 --kernel "$K/irqchip.elf" --stats --cmdline "case=pit_pic"
	if grep -q "pit: [1-9]" "$TMP/err"; then
		expect irqchip_split_is_default 0 PASS
	else
		fail irqchip_split_is_default "--stats shows no PIT of shrike's"
	fi
}
