# import --convert-guest of the VMware-only-initramfs appliance into a
# private libvirtd's directory pool (run_integration.sh daemon): the
# initramfs holds no virtio driver, virt-v2v-in-place rebuilds it, and the
# guest then boots from its virtio disk, cloud-init showing the hostname.
# One conversion takes about 13 minutes under TCG: this is the only test
# that runs one. Skipped (77) without virt-v2v-in-place.
# Environment: OVA2VIRT, APPLIANCE, TIMES (optional).
set -u
: "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/../integration/daemon_lib.sh"
. "$(dirname "$0")/realguest_lib.sh"
command -v virt-v2v-in-place >/dev/null 2>&1 ||
    { echo "SKIP: virt-v2v-in-place is not installed (scripts/install-deps)"; exit 77; }

# libguestfs boots its appliance with the host's kernel (supermin looks in
# /boot and /lib/modules). A host with none (a container) lends it the
# appliance's own Debian kernel; supermin also needs /lib/modules to exist.
if ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
    kver=$(ls "$APPLIANCE/rootfs/lib/modules")
    export SUPERMIN_KERNEL="$APPLIANCE/rootfs/boot/vmlinuz-$kver"
    export SUPERMIN_MODULES="$APPLIANCE/rootfs/lib/modules/$kver"
    export SUPERMIN_KERNEL_VERSION="$kver"
    [ -d /lib/modules ] || { echo "SKIP: no kernel and no /lib/modules on this host"; exit 77; }
fi
make_dir_pool rg "$work/pool"
t0=$(date +%s)
"$OVA2VIRT" import -c "$uri" --pool rg --name rg-converted --json \
    --network '*=user' --virt-type qemu --convert-guest \
    "$APPLIANCE/debian12-vmware.ova" --prop hostname=rg-converted \
    --prop "user-data=$(user_data)" --start >"$work/import.json" 2>"$work/import.err" ||
    { cat "$work/import.err" "$work/import.json" >&2; fail "import --convert-guest"; exit 1; }
t_import=$(( $(date +%s) - t0 ))
python3 - "$work/import.json" <<'PY' || fail "the report"
import json, sys
d = json.load(open(sys.argv[1]))
g = d["guest_conversions"]
assert len(g) == 1 and g[0]["tool"].endswith("virt-v2v-in-place"), g
assert g[0]["seconds"] > 0 and g[0]["messages"], g
xml = d["domains"][0]["domain_xml"]
assert 'bus="virtio"' in xml and '<model type="virtio"/>' in xml, xml
print(f"conversion: {g[0]['seconds']:.0f} s; import in all: {d['seconds']}")
PY
pty=$(virsh_q ttyconsole rg-converted)
cat "$pty" >"$work/converted.console" 2>/dev/null &
reader=$!
t1=$(date +%s)
while [ "$(virsh_q domstate rg-converted)" != "shut off" ]; do
    [ $(( $(date +%s) - t1 )) -ge 900 ] && break
    sleep 1
done
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
if [ "$(virsh_q domstate rg-converted)" != "shut off" ]; then
    fail "rg-converted still running after 900 s"
    virsh_q destroy rg-converted >/dev/null
fi
expect_marker "$work/converted.console" rg-converted
[ "$failures" = 0 ] || exit 1
record_time "convert-guest-import" "-" "$t_import"
record_time "convert-guest-boot-virtio" "-" "$(( $(date +%s) - t1 ))"
echo "ok: converted, booted from virtio"
