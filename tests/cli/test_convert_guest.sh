# import --convert-guest (issue 14) against libvirt's test driver: refused
# when there is no virt-v2v-in-place, with nothing written; what ova2virt
# hands the tool (-i libvirtxml, the written disk files) and what it does
# with the answer: virtio disk and NIC on success, a rollback on failure. The tool here is a small script
# standing in for virt-v2v-in-place through $OVA2VIRT_VIRT_V2V_IN_PLACE; the
# real conversion of a real guest is tests/realguest (realguest.convert_guest).
. "$SRC/tests/cli/lib.sh"

python3 "$SRC/samples/build-samples" "$T/samples" --only bios >/dev/null ||
    { echo "cannot build the sample"; exit 1; }
ova="$T/samples/ova2virt-sample-bios.ova"
st="$T/storage"
mkdir -p "$st"

# --- refused at plan time ------------------------------------------------
# (env: with PATH emptied for ova2virt only; run's own tools need it)
env -u OVA2VIRT_VIRT_V2V_IN_PLACE PATH=/nonexistent "$OVA2VIRT" import \
    -c test:///default --storage-dir "$st" --network '*=user' \
    --convert-guest "$ova" >"$T/.out" 2>"$T/.err"
rc=$?
err=$(cat "$T/.err")
expect_rc 4 "no virt-v2v-in-place"
expect_err_contains "virt-v2v-in-place is not installed" "the reason"
expect_one_line_error "no virt-v2v-in-place"
expect_empty "no virt-v2v-in-place"

cat >"$T/v2v-ok" <<'SH'
#!/bin/sh
# Records what it was given, then answers as virt-v2v-in-place does.
echo "$@" >"$V2V_LOG"
cp "$3" "$V2V_LOG.xml"
echo "[   0.0] Setting up the source: -i libvirtxml $3"
echo "[  99.9] Finishing off"
SH
printf '#!/bin/sh\necho "virt-v2v-in-place: error: inspection could not detect the source guest" >&2\nexit 1\n' >"$T/v2v-fail"
chmod +x "$T/v2v-ok" "$T/v2v-fail"

# (A pool whose volumes are not local files is refused the same way: the
# unit test "guest conversion: refused for volumes that are not local
# files"; the test driver's pools count as local.)

# --- the tool succeeds: it saw the written disk; virtio disk and NIC ------
OVA2VIRT_VIRT_V2V_IN_PLACE="$T/v2v-ok" V2V_LOG="$T/log" \
    imp --convert-guest --json "$ova"
expect_rc 0 "conversion succeeds"
checks=$((checks + 5))
[ "$(cut -d' ' -f1-2 "$T/log")" = "-i libvirtxml" ] || fail "tool arguments: $(cat "$T/log")"
grep -q "<source file=\"$st/ova2virt-sample-bios-disk1.qcow2\"/>" "$T/log.xml" ||
    fail "the tool's XML does not name the written disk: $(cat "$T/log.xml")"
json_get 'd["guest_conversions"][0]["messages"]' | grep -q "Finishing off" ||
    fail "the tool's messages are not in the report"
json_get 'd["domains"][0]["domain_xml"]' | grep -q 'bus="virtio"' ||
    fail "the disk is not on virtio"
json_get 'd["domains"][0]["domain_xml"]' | grep -q '<model type="virtio"/>' ||
    fail "the NIC is not virtio"
rm -f "$st"/* "$T/log" "$T/log.xml"

# --- the tool fails: the import is rolled back ----------------------------
OVA2VIRT_VIRT_V2V_IN_PLACE="$T/v2v-fail" imp --convert-guest "$ova"
expect_rc 1 "conversion fails"
expect_err_contains "exited 1: virt-v2v-in-place: error: inspection could not detect" "the tool's message"
expect_one_line_error "conversion fails"
expect_empty "after a failed conversion"
finish
