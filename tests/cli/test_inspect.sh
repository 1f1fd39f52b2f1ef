# ova2virt inspect: every corpus descriptor, .vmx and OVA gives a clear
# answer; the machines come out with the right figures (issue 3).
. "$SRC/tests/cli/lib.sh"

# Every descriptor in the corpus: exit 0, except the known negatives.
for f in "$CORPUS"/ovf/* "$CORPUS"/vmx/*; do
    name=$(basename "$f")
    case "$name" in
        cot_ersatz_ovf_3.0.ovf) want=4 ;;  # OVF 3.0 does not exist (yet)
        ganeti_empty.ovf | ganeti_wrong_xml.ovf | pve_XEE_xxe-attack.ovf) want=3 ;;
        *) want=0 ;;
    esac
    run inspect --json "$f"
    expect_rc "$want" "inspect $name"
    if [ "$want" -eq 0 ] && [ "$name" != govmomi_l10n_external_strings.ovf ]; then
        # (that one is a collection holding no machine, by design)
        n=$(json_get 'len(d["virtual_systems"])')
        [ "$n" -ge 1 ] || fail "inspect $name: no virtual systems"
        checks=$((checks + 1))
    elif [ "$want" -ne 0 ]; then
        expect_out_contains '"error"' "inspect --json $name reports the error"
        run inspect "$f"
        expect_one_line_error "inspect $name"
    fi
done

# The XXE attempt must not read anything, and says why it is refused.
run inspect "$CORPUS/ovf/pve_XEE_xxe-attack.ovf"
expect_err_contains "DOCTYPE" "xxe refused for its DOCTYPE"
run inspect "$CORPUS/ovf/ganeti_wrong_xml.ovf"
expect_err_contains "line 71, column 7" "malformed xml names line and column"

# Units honoured: VirtualBox MegaBytes and VMware byte * 2^20.
run inspect --json "$CORPUS/ovf/govmomi_vbox5_all_storage_controllers.ovf"
expect_rc 0 "vbox5"
[ "$(json_get 'd["virtual_systems"][0]["memory_mib"]')" -gt 0 ] ||
    fail "vbox5 memory"
run inspect --json "$CORPUS/ovf/govmomi_multi-core-vm_coresPerSocket.ovf"
expect_rc 0 "coresPerSocket"
cps=$(json_get 'd["virtual_systems"][0]["cores_per_socket"]')
[ "$cps" != "None" ] || fail "cores per socket not read"

# A .vmx with UEFI, and NVMe read as NVMe (virt-v2v reads it as SATA).
run inspect --json "$CORPUS/vmx/virtv2v_test-i-vmx-3_uefi.vmx"
expect_rc 0 "uefi vmx"
[ "$(json_get 'd["virtual_systems"][0]["firmware"]')" = efi ] ||
    fail "uefi vmx firmware"
run inspect --json "$CORPUS/vmx/virtv2v_test-i-vmx-6_nvme.vmx"
expect_rc 0 "nvme vmx"
[ "$(json_get 'd["virtual_systems"][0]["disks"][0]["bus"]')" = nvme ] ||
    fail "nvme vmx bus"

# An OVA: members and machines in one document, members' offsets as tar has
# them, and the same answer from a pipe.
ova="$CORPUS/ova/vboxvk_tdAppliance1-t4-ovftool-4.1.0.ova"
run inspect --json "$ova"
expect_rc 0 "signed ova"
json_get 'd["members"][0]["offset"], d["virtual_systems"][0]["memory_mib"], len(d["virtual_systems"][0]["disks"])' >"$T/file.txt"
[ "$(cat "$T/file.txt")" = "512 1024 2" ] ||
    fail "signed ova figures: $(cat "$T/file.txt")"
"$OVA2VIRT" inspect --json - <"$ova" >"$T/.out" 2>"$T/.err"
json_get 'd["members"][0]["offset"], d["virtual_systems"][0]["memory_mib"], len(d["virtual_systems"][0]["disks"])' >"$T/pipe.txt"
cmp -s "$T/file.txt" "$T/pipe.txt" || fail "inspect from a pipe differs"

# Broken packages: one line, exit 3.
for f in glance_testserver-not-tar.ova glance_testserver-no-ovf.ova \
    ganeti_no_ovf.ova glance_testserver-bad-ovf.ova; do
    run inspect "$CORPUS/ova/$f"
    expect_rc 3 "inspect $f"
    expect_one_line_error "inspect $f"
done

# A deployment option that does not exist is a usage error.
run inspect --deployment no-such-option "$CORPUS/ovf/govmomi_vcsa-9.1_OVF10.ovf"
expect_rc 2 "unknown deployment option"

finish
