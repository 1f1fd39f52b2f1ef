# End-to-end import against a real libvirtd (started by run_integration.sh,
# which exports OVA2VIRT_TEST_URI and OVA2VIRT_TEST_DIR): the sample
# appliances import into a directory pool through the storage API, their
# domains start and print the marker on the serial console; and every
# injected failure leaves no domain and no volume behind (issue 6).
#
# Environment: OVA2VIRT (the binary), SAMPLES (built sample appliances).
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/daemon_lib.sh"

make_dir_pool imp "$work/pool"

# Nothing of an import may remain: no domain, no volume, no temporary file.
expect_clean() {
    doms=$(virsh_q list --all --name | grep -v '^$')
    vols=$(virsh_q vol-list imp | grep -v '^$')
    [ -z "$doms" ] || fail "$1: domains left: $doms"
    [ -z "$vols" ] || fail "$1: volumes left: $vols"
    leftovers=$(find "$work/pool" -name '*ova2virt-tmp*' | head -n 1)
    [ -z "$leftovers" ] || fail "$1: temporary files left: $leftovers"
}


for sample in bios uefi; do
    ova="$SAMPLES/ova2virt-sample-$sample.ova"
    dom="e2e-$sample"
    if ! "$OVA2VIRT" import -q -c "$uri" --pool imp --name "$dom" \
        --network '*=user' --json "$ova" >"$work/$dom.json"; then
        fail "import $sample: $(cat "$work/$dom.json")"
        continue
    fi
    path=$(virsh_q vol-path --pool imp "$dom-disk1.qcow2")
    qemu-img compare -q "$SAMPLES/ova2virt-sample-$sample.raw" "$path" ||
        fail "$sample: the volume differs from the original disk"
    qemu-img check -q "$path" || fail "$sample: qemu-img check"
    # The volume went in through the storage API: libvirt knows it as qcow2.
    virsh_q vol-dumpxml --pool imp "$dom-disk1.qcow2" | grep -q "format type='qcow2'" ||
        fail "$sample: libvirt does not see a qcow2 volume"
    boot_and_check "$dom"
    virsh_q undefine --nvram "$dom" >/dev/null
    virsh_q vol-delete --pool imp "$dom-disk1.qcow2" >/dev/null
done

# --start starts it; the guest then powers itself off.
if "$OVA2VIRT" import -q -c "$uri" --pool imp --name e2e-start \
    --network '*=user' --start "$SAMPLES/ova2virt-sample-bios.ova"; then
    i=0
    while [ "$(virsh_q domstate e2e-start)" != "shut off" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ "$(virsh_q domstate e2e-start)" = "shut off" ] ||
        fail "--start: the guest did not run to its power-off"
    virsh_q undefine e2e-start >/dev/null
    virsh_q vol-delete --pool imp e2e-start-disk1.qcow2 >/dev/null
else
    fail "import --start"
fi
# --upload: the local pool's volumes through upload streams all the same,
# qcow2 and raw (whose zeros go as holes: the file stays sparse).
for fmt in qcow2 raw; do
    dom="e2e-upload-$fmt"
    if ! "$OVA2VIRT" import -q -c "$uri" --pool imp --name "$dom" \
        --network '*=user' --upload --format "$fmt" \
        "$SAMPLES/ova2virt-sample-bios.ova"; then
        fail "import --upload --format $fmt"
        continue
    fi
    path=$(virsh_q vol-path --pool imp "$dom-disk1.$fmt")
    qemu-img compare -q "$SAMPLES/ova2virt-sample-bios.raw" "$path" ||
        fail "--upload $fmt: the volume differs from the original disk"
    if [ "$fmt" = raw ]; then
        [ "$(du -k "$path" | cut -f1)" -lt \
            "$(($(stat -c %s "$path") / 1024))" ] ||
            fail "--upload raw: the volume is not sparse"
    fi
    virsh_q undefine "$dom" >/dev/null
    virsh_q vol-delete --pool imp "$dom-disk1.$fmt" >/dev/null
done
if "$OVA2VIRT" import -q -c "$uri" --pool imp --upload --storage-dir "$work" \
    "$SAMPLES/ova2virt-sample-bios.ova" 2>"$work/upload-usage.err"; then
    fail "--upload with --storage-dir was accepted"
else
    [ $? -eq 2 ] || fail "--upload with --storage-dir: not exit 2"
fi
expect_clean "after the good imports"

# --- failures: each one leaves nothing ---------------------------------
bad="$work/bad"
mkdir -p "$bad"
python3 - "$SAMPLES/ova2virt-sample-bios.ova" "$bad" <<'EOF'
import io, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
def write(name, items):
    with tarfile.open(f"{out}/{name}", "w", format=tarfile.USTAR_FORMAT) as t:
        for m, data in items:
            m.size = len(data)
            t.addfile(m, io.BytesIO(data))
# The last byte of the disk (end-of-stream padding): decodes fine, fails
# only its digest, found at the end of the package.
flipped = []
for m, data in members:
    if m.name.endswith(".vmdk"):
        data = data[:-1] + bytes([data[-1] ^ 0x40])
    flipped.append((m, data))
write("flipped.ova", flipped)
# A manifest listing a file the package does not hold.
extra = []
for m, data in members:
    if m.name.endswith(".mf"):
        data += b"SHA256(missing-disk2.vmdk)= " + b"0" * 64 + b"\n"
    extra.append((m, data))
write("missing.ova", extra)
EOF

"$OVA2VIRT" import -c "$uri" --pool imp --network '*=user' "$bad/flipped.ova" \
    2>"$work/err"
rc=$?
[ $rc -eq 3 ] || fail "flipped byte: exit $rc, expected 3"
grep -q "digest mismatch" "$work/err" || fail "flipped byte: $(cat "$work/err")"
expect_clean "flipped byte"

"$OVA2VIRT" import -c "$uri" --pool imp --network '*=user' "$bad/missing.ova" \
    2>"$work/err"
rc=$?
[ $rc -eq 3 ] || fail "missing file: exit $rc, expected 3"
grep -q "missing-disk2.vmdk" "$work/err" || fail "missing file: $(cat "$work/err")"
expect_clean "manifest lists a missing file"

# A full pool: the disk write fails with ENOSPC (the I/O seam).
OVA2VIRT_FAULT=write:3:ENOSPC "$OVA2VIRT" import -c "$uri" --pool imp \
    --network '*=user' "$SAMPLES/ova2virt-sample-bios.ova" 2>"$work/err"
rc=$?
[ $rc -eq 1 ] || fail "full pool: exit $rc, expected 1"
grep -q "No space left" "$work/err" || fail "full pool: $(cat "$work/err")"
expect_clean "full pool"

# SIGTERM in the middle of the copy: the package arrives through a FIFO
# that stalls half way through the disk.
fifo="$work/stall.fifo"
mkfifo "$fifo"
size=$(stat -c %s "$SAMPLES/ova2virt-sample-bios.ova")
(head -c $((size / 2)) "$SAMPLES/ova2virt-sample-bios.ova"; sleep 20) >"$fifo" &
feeder=$!
"$OVA2VIRT" import -c "$uri" --pool imp --network '*=user' "$fifo" 2>"$work/err" &
importer=$!
sleep 2
kill -TERM "$importer"
wait "$importer"
rc=$?
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
[ $rc -ne 0 ] && [ $rc -lt 128 ] || fail "SIGTERM: exit $rc (a signal death?)"
grep -q "interrupted" "$work/err" || fail "SIGTERM: $(cat "$work/err")"
expect_clean "SIGTERM mid-copy"

# A broken package from the corpus leaves nothing either.
if [ -n "${CORPUS:-}" ]; then
    for f in glance_testserver-no-disk.ova glance_testserver-bad-ovf.ova; do
        "$OVA2VIRT" import -q -c "$uri" --pool imp --network '*=user' \
            "$CORPUS/ova/$f" 2>/dev/null
        rc=$?
        [ $rc -eq 3 ] || fail "corpus $f: exit $rc, expected 3"
        expect_clean "corpus $f"
    done
fi

echo "$failures failures"
[ "$failures" -eq 0 ]
