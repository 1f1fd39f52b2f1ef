# The real appliance through a real libvirtd (run_integration.sh daemon:
# OVA2VIRT_TEST_URI, OVA2VIRT_TEST_DIR): `import --start` into a directory
# pool with virtio disk and NIC, the guest boots and cloud-init shows the
# hostname given by --prop; then the domain is exported, the export imported
# again (default policy, another hostname) and booted again.
# Environment: OVA2VIRT, APPLIANCE, TIMES (optional).
set -u
: "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/../integration/daemon_lib.sh"
. "$(dirname "$0")/realguest_lib.sh"

make_dir_pool rg "$work/pool"
ud=$(user_data)

# wait_off DOMAIN LIMIT_S: seconds until the domain shut off, or -1.
wait_off() {
    _t0=$(date +%s)
    while [ "$(virsh_q domstate "$1")" != "shut off" ]; do
        [ $(( $(date +%s) - _t0 )) -ge "$2" ] && { echo -1; return; }
        sleep 1
    done
    echo $(( $(date +%s) - _t0 ))
}

# --- 1. import --start, virtio disk and NIC -------------------------------
t0=$(date +%s)
"$OVA2VIRT" import -q -c "$uri" --pool rg --name rg-imported \
    --network '*=user' --virt-type qemu --disk-bus virtio --nic-model virtio \
    "$APPLIANCE/debian12-generic.ova" --prop hostname=rg-imported \
    --prop "user-data=$ud" --start >"$work/import.out" 2>&1 ||
    { cat "$work/import.out" >&2; fail "import --start"; exit 1; }
t_import=$(( $(date +%s) - t0 ))
virsh_q dumpxml rg-imported >"$work/imported.xml"
grep -q "bus='virtio'" "$work/imported.xml" || fail "the disk is not on virtio"
grep -q "model type='virtio'" "$work/imported.xml" || fail "the NIC is not virtio"
# The serial console is a pty; read it from now on (the kernel's first
# lines may be gone already; the marker comes a minute later).
pty=$(virsh_q ttyconsole rg-imported)
[ -n "$pty" ] || fail "no console pty"
cat "$pty" >"$work/imported.console" 2>/dev/null &
reader=$!
off=$(wait_off rg-imported 900)
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
if [ "$off" = -1 ]; then
    fail "rg-imported still running after 900 s"
    virsh_q destroy rg-imported >/dev/null
fi
expect_marker "$work/imported.console" rg-imported
[ "$off" != -1 ] && record_time "import-start-virtio" "-" "$((t_import + off))"

# --- 2. export, import again (default policy), boot again -----------------
# The domain's CDs are the appliance's empty drive and the OVF environment
# ISO the import made: the export leaves that ISO out (its metadata names
# it) and keeps ovf:transport="iso", so the re-import builds a fresh one
# from --prop (an exported copy would sit beside it with the old hostname).
"$OVA2VIRT" export -q -c "$uri" rg-imported -o "$work/exported.ova" ||
    fail "export"
"$OVA2VIRT" verify -q "$work/exported.ova" || fail "verify of the export"
"$OVA2VIRT" import -q -c "$uri" --pool rg --name rg-reimported \
    --network '*=user' --virt-type qemu "$work/exported.ova" \
    --prop hostname=rg-reimported --prop "user-data=$ud" \
    >"$work/reimport.out" 2>&1 ||
    { cat "$work/reimport.out" >&2; fail "re-import"; exit 1; }
# The same disk: the exported and re-imported volumes hold the same bytes.
qemu-img compare -q "$(virsh_q vol-path --pool rg rg-imported-disk1.qcow2)" \
    "$(virsh_q vol-path --pool rg rg-reimported-disk1.qcow2)" ||
    fail "the re-imported disk differs from the exported one"
add_console_log rg-reimported "$work/reimport.xml" "$work/reimported.console" ||
    fail "redefine with a console log"
virsh_q start rg-reimported >/dev/null || fail "start rg-reimported"
off=$(wait_off rg-reimported 900)
if [ "$off" = -1 ]; then
    fail "rg-reimported still running after 900 s"
    virsh_q destroy rg-reimported >/dev/null
else
    record_time "reimport-start-default" "-" "$off"
fi
# The descriptor asks for the OVF environment again and packs no ISO; the
# hostname on the console shows the guest read the re-import's environment.
python3 - "$work/exported.ova" >"$work/transport" <<'PY'
import re, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    names = t.getnames()
    ovf = next(m for m in t.getmembers() if m.name.endswith(".ovf"))
    text = t.extractfile(ovf).read().decode()
print("iso" if re.search(r'ovf:transport="[^"]*iso', text) else "none",
      "with-iso-file" if any(n.endswith(".iso") for n in names) else "")
PY
read -r transport iso_file <"$work/transport"
[ "$transport" = iso ] || fail "the export has no ovf:transport=\"iso\""
[ -z "$iso_file" ] || fail "the export packs an ISO (the old OVF environment?)"
expect_marker "$work/reimported.console" rg-reimported
[ "$failures" = 0 ] || exit 1
echo "ok: import --start, export, re-import, boot"
