# Export against a real libvirtd (started by run_integration.sh, which
# exports OVA2VIRT_TEST_URI and OVA2VIRT_TEST_DIR), issue 7:
#
# - round trip: each sample is imported, exported, and the export imported
#   again under another name; the two domains' XML are equivalent apart
#   from names, UUIDs and paths (compared structurally), the volumes are
#   identical by qemu-img compare, and the re-imported domain boots and
#   prints its marker;
# - every export is checked by outside referees: xmllint with the DMTF
#   schema (1.1.1, and 2.0.1 for --ovf-version 2), Python's tarfile (member
#   order), qemu-img compare and vmdkinfo (the VMDKs), ova2virt verify
#   (manifest, and the signature of a signed export); two exports, one
#   reading the volumes in place and one through libvirt's download
#   streams, are byte-identical;
# - a full disk (ENOSPC injected) and libvirt failing in the middle of a
#   volume download (OVA2VIRT_LIBVIRT_FAULT=download:N) leave nothing behind;
# - an appliance with ovf:transport="iso" and a property: the export keeps
#   both (the value given at import) and leaves out the import's OVF
#   environment CD; the re-import makes a fresh one with its own --prop.
#
# Environment: OVA2VIRT (the binary), SAMPLES (built sample appliances),
# CORPUS (the shared corpus, for the schemas).
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${CORPUS:?}" "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/daemon_lib.sh"
xsd1="$CORPUS/xsd/dsp8023_1.1.1_xo/dsp8023_1.1.1.xsd"
xsd2="$CORPUS/xsd/dsp8023_2.0.1_itchy/dsp8023_2.0.1.xsd"

make_dir_pool imp "$work/pool"


# check_package OVA XSD: the referees' view of an export.
check_package() {
    pkg=$1
    xsd=$2
    x="$pkg.x"
    rm -rf "$x"
    mkdir -p "$x"
    tar -xf "$pkg" -C "$x" || { fail "$pkg: tar cannot unpack it"; return; }
    for ovf in "$x"/*.ovf; do
        xmllint --nonet --noout --schema "$xsd" "$ovf" 2>"$work/xmllint.err" ||
            fail "$ovf: not valid against $(basename "$xsd"): $(tail -n 3 "$work/xmllint.err")"
    done
    for vmdk in "$x"/*.vmdk; do
        vmdkinfo "$vmdk" >"$work/vmdkinfo.out" 2>&1 ||
            fail "$vmdk: vmdkinfo refuses it: $(tail -n 3 "$work/vmdkinfo.out")"
        grep -q "Stream optimized" "$work/vmdkinfo.out" ||
            fail "$vmdk: vmdkinfo does not see a stream-optimized disk"
    done
    # ovftool's order: descriptor, manifest, certificate if any, disks.
    python3 - "$pkg" <<'PY' || fail "$pkg: members out of order"
import sys, tarfile
names = tarfile.open(sys.argv[1]).getnames()
kinds = [n.rsplit(".", 1)[-1] for n in names]
want = ["ovf", "mf"] + (["cert"] if "cert" in kinds else [])
assert kinds[:len(want)] == want, names
assert all(k == "vmdk" for k in kinds[len(want):]), names
PY
    "$OVA2VIRT" verify "$pkg" >"$work/verify.out" 2>&1 ||
        fail "$pkg: verify refuses the export: $(cat "$work/verify.out")"
    rm -rf "$x"
}

# same_machine A.xml B.xml: the domains are the same machine, apart from
# names, UUIDs, paths and where each was imported from.
same_machine() {
    python3 - "$1" "$2" <<'PY'
import sys, xml.etree.ElementTree as ET
OURS = "{https://ova2virt.example/xmlns/1.0}"
PROVENANCE = {"source", "source-id", "imported", "source-digest", "import-id"}
def normal(path):
    root = ET.parse(path).getroot()
    for tag in ("name", "uuid"):
        for e in root.findall(tag):
            root.remove(e)
    for e in root.iter():
        # Paths: disk sources (files and pool volumes named after the
        # domain), NVRAM files.
        if e.tag == "source":
            for a in ("file", "dev", "pool", "volume"):
                e.attrib.pop(a, None)
        if e.tag == "nvram":
            e.text = None
        for m in list(e):
            if m.tag == OURS + "meta" and m.get("name") in PROVENANCE:
                e.remove(m)
    return root
def os_names(root):
    e = root.find(f"metadata/{OURS}appliance/{OURS}os")
    return e
a_root, b_root = normal(sys.argv[1]), normal(sys.argv[2])
# The export names the guest OS in every world's terms (CIM, VMware,
# VirtualBox), so the re-imported domain may know more names for it; the
# ones the first domain had must be the same.
a_os, b_os = os_names(a_root), os_names(b_root)
if a_os is not None and b_os is not None:
    for k, v in a_os.attrib.items():
        if b_os.get(k) != v:
            print(f"os {k}: {v!r} became {b_os.get(k)!r}")
            sys.exit(1)
    b_os.attrib = dict(a_os.attrib)
def show(e, depth=0):
    attrs = " ".join(f'{k}="{v}"' for k, v in sorted(e.attrib.items()))
    text = (e.text or "").strip()
    out = ["  " * depth + f"<{e.tag} {attrs}> {text}"]
    for c in e:
        out += show(c, depth + 1)
    return out
a, b = show(a_root), show(b_root)
if a != b:
    import difflib
    print("\n".join(difflib.unified_diff(a, b, "first", "re-imported", lineterm="")))
    sys.exit(1)
PY
}

for sample in bios uefi; do
    src="$SAMPLES/ova2virt-sample-$sample.ova"
    dom="rt-$sample"
    back="rt-$sample-back"
    if ! "$OVA2VIRT" import -q -c "$uri" --pool imp --name "$dom" \
        --network '*=user' "$src" >/dev/null 2>"$work/err"; then
        fail "import $sample: $(cat "$work/err")"
        continue
    fi
    virsh_q dumpxml --inactive "$dom" >"$work/$dom.xml"
    vol=$(virsh_q vol-path --pool imp "$dom-disk1.qcow2")

    # Export, reading the volume in place; then again through libvirt's
    # download streams: the same bytes.
    ova="$work/$dom.ova"
    if ! "$OVA2VIRT" export -c "$uri" "$dom" -o "$ova" --json \
        >"$work/$dom.export.json" 2>"$work/err"; then
        fail "export $dom: $(cat "$work/err" "$work/$dom.export.json")"
        continue
    fi
    python3 - "$work/$dom.export.json" <<'PY' || fail "$dom: export report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["layout"] == "ova" and d["digest_algorithm"] == "SHA256", d
assert [f["role"] for f in d["files"]] == ["descriptor", "manifest", "disk"], d["files"]
disk = d["disks"][0]
assert disk["read"] == "in place" and disk["format"] == "qcow2", disk
assert disk["capacity_bytes"] == 64 << 20 and len(disk["digest"]) == 64, disk
PY
    "$OVA2VIRT" export -q -c "$uri" "$dom" -o "$work/$dom-dl.ova" --download \
        --json >"$work/$dom.dl.json" 2>"$work/err" || fail "export --download $dom: $(cat "$work/err")"
    python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['disks'][0]['read']=='download'" \
        "$work/$dom.dl.json" || fail "$dom: --download did not download"
    cmp -s "$ova" "$work/$dom-dl.ova" ||
        fail "$dom: the export read in place and the downloaded one differ"
    rm -f "$work/$dom-dl.ova"
    check_package "$ova" "$xsd1"
    x="$work/$dom.unpacked"
    mkdir -p "$x" && tar -xf "$ova" -C "$x"
    qemu-img compare -q "$vol" "$x/$dom-disk1.vmdk" ||
        fail "$dom: the exported VMDK differs from the volume"
    qemu-img compare -q "$SAMPLES/ova2virt-sample-$sample.raw" "$x/$dom-disk1.vmdk" ||
        fail "$dom: the exported VMDK differs from the sample's disk"
    rm -rf "$x"

    # OVF 2.0, and a signed export.
    "$OVA2VIRT" export -q -c "$uri" "$dom" -o "$work/$dom-v2.ova" \
        --ovf-version 2 >/dev/null 2>"$work/err" || fail "export --ovf-version 2 $dom: $(cat "$work/err")"
    check_package "$work/$dom-v2.ova" "$xsd2"
    rm -f "$work/$dom-v2.ova"
    if [ "$sample" = bios ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ova2virt export test" \
            -keyout "$work/sign.key" -out "$work/sign.pem" 2>/dev/null ||
            fail "openssl cannot make a signing key"
        "$OVA2VIRT" export -q -c "$uri" "$dom" -o "$work/$dom-signed.ova" \
            --sign "$work/sign.key" --cert "$work/sign.pem" >/dev/null 2>"$work/err" ||
            fail "export --sign $dom: $(cat "$work/err")"
        check_package "$work/$dom-signed.ova" "$xsd1"
        "$OVA2VIRT" verify --ca "$work/sign.pem" "$work/$dom-signed.ova" >"$work/verify.out" 2>&1 ||
            fail "$dom: the signature does not verify: $(cat "$work/verify.out")"
        grep -q "signature: valid, SHA256" "$work/verify.out" ||
            fail "$dom: verify does not report a valid signature: $(cat "$work/verify.out")"
        rm -f "$work/$dom-signed.ova"
    fi

    # Back again under another name: the same machine, the same disk.
    if ! "$OVA2VIRT" import -q -c "$uri" --pool imp --name "$back" \
        --network '*=user' "$ova" >/dev/null 2>"$work/err"; then
        fail "re-import $dom: $(cat "$work/err")"
        continue
    fi
    virsh_q dumpxml --inactive "$back" >"$work/$back.xml"
    same_machine "$work/$dom.xml" "$work/$back.xml" >"$work/diff" ||
        fail "$sample: the re-imported domain differs: $(cat "$work/diff")"
    qemu-img compare -q "$vol" "$(virsh_q vol-path --pool imp "$back-disk1.qcow2")" ||
        fail "$sample: the re-imported volume differs"
    boot_and_check "$back"
    for d in "$dom" "$back"; do
        virsh_q undefine --nvram "$d" >/dev/null
        virsh_q vol-delete --pool imp "$d-disk1.qcow2" >/dev/null
    done
    rm -f "$ova"
done

# --- an appliance with ovf:transport="iso": the export keeps the transport
# and the property (with the value given), and leaves out the OVF
# environment CD the import made; the re-import makes a fresh one.
env_failures=$failures
env_dir="$work/envsrc"
mkdir -p "$env_dir" && tar -xf "$SAMPLES/ova2virt-sample-bios.ova" -C "$env_dir"
rm -f "$env_dir"/*.mf
python3 - "$env_dir/ova2virt-sample-bios.ovf" <<'PY' || fail "transport: cannot edit the sample"
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("<VirtualHardwareSection>", '<VirtualHardwareSection ovf:transport="iso">', 1)
product = ('<ProductSection><Info>Settings</Info><Product>Sample</Product>'
           '<Property ovf:key="hostname" ovf:type="string" '
           'ovf:userConfigurable="true" ovf:value="sample"/></ProductSection>')
assert s.count("</VirtualSystem>") == 1
s = s.replace("</VirtualSystem>", product + "</VirtualSystem>")
open(p, "w").write(s)
PY
"$OVA2VIRT" import -q -c "$uri" --pool imp --name envd --network '*=user' \
    --prop hostname=first "$env_dir/ova2virt-sample-bios.ovf" >/dev/null 2>"$work/err" ||
    fail "transport: import: $(cat "$work/err")"
virsh_q vol-info --pool imp envd-ovf-env.iso >/dev/null ||
    fail "transport: the import made no ovf-env volume"
"$OVA2VIRT" export -c "$uri" envd -o "$work/envd.ova" --json \
    >"$work/envd.json" 2>"$work/err" || fail "transport: export: $(cat "$work/err")"
python3 - "$work/envd.ova" "$work/envd.json" <<'PY' || fail "transport: the export"
import json, re, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    names = t.getnames()
    ovf = t.extractfile(next(n for n in names if n.endswith(".ovf"))).read().decode()
assert not any(n.endswith(".iso") for n in names), names
assert re.search(r'<VirtualHardwareSection ovf:transport="iso"', ovf), "no transport"
assert re.search(r'ovf:key="hostname"[^>]*ovf:value="first"', ovf), "no property value"
assert "ResourceType>15<" not in ovf, "a CD drive is still described"
warnings = [w["id"] for w in json.load(open(sys.argv[2]))["warnings"]]
assert "export.environment-cd-dropped" in warnings, warnings
PY
"$OVA2VIRT" import -q -c "$uri" --pool imp --name envd-back --network '*=user' \
    --prop hostname=second "$work/envd.ova" >/dev/null 2>"$work/err" ||
    fail "transport: re-import: $(cat "$work/err")"
virsh_q vol-download --pool imp envd-back-ovf-env.iso "$work/envd-back.iso" >/dev/null 2>&1 ||
    fail "transport: the re-import made no ovf-env volume"
grep -a -q 'oe:key="hostname" oe:value="second"' "$work/envd-back.iso" ||
    fail "transport: the re-import's environment has not the new hostname"
[ "$(virsh_q dumpxml envd-back | grep -c "device='cdrom'")" = 1 ] ||
    fail "transport: the re-imported domain has not exactly one CD drive"
for d in envd envd-back; do
    virsh_q undefine "$d" >/dev/null
    virsh_q vol-delete --pool imp "$d-disk1.qcow2" >/dev/null
    virsh_q vol-delete --pool imp "$d-ovf-env.iso" >/dev/null
done
rm -rf "$env_dir" "$work/envd.ova" "$work/envd-back.iso"
[ "$failures" = "$env_failures" ] && echo "ok: transport iso round trip"

# --- failure: a full disk leaves nothing ----------------------------------
"$OVA2VIRT" import -q -c "$uri" --pool imp --name full --network '*=user' \
    "$SAMPLES/ova2virt-sample-bios.ova" >/dev/null 2>"$work/err" || fail "import for ENOSPC: $(cat "$work/err")"
mkdir -p "$work/out"
OVA2VIRT_FAULT=write:8:ENOSPC "$OVA2VIRT" export -c "$uri" full \
    -o "$work/out/full.ova" 2>"$work/err"
rc=$?
[ $rc -eq 1 ] || fail "ENOSPC: exit $rc, expected 1"
grep -q "disk 'sda'.*No space left" "$work/err" || fail "ENOSPC: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "ENOSPC: not one line: $(cat "$work/err")"
[ -z "$(ls -A "$work/out")" ] || fail "ENOSPC: left behind: $(ls -A "$work/out")"
# --- failure: libvirt fails while the disk is downloaded ------------------
# (--download reads the volume through virStorageVolDownload, as a remote
# connection must; the fault seam fails the Nth read of the stream.)
for spec in download download:2 download:7; do
    OVA2VIRT_LIBVIRT_FAULT=$spec "$OVA2VIRT" export -c "$uri" full --download \
        -o "$work/out/full.ova" 2>"$work/err"
    rc=$?
    [ $rc -eq 1 ] || fail "libvirt $spec: exit $rc, expected 1: $(cat "$work/err")"
    grep -q "injected failure" "$work/err" || fail "libvirt $spec: $(cat "$work/err")"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "libvirt $spec: not one line: $(cat "$work/err")"
    [ -z "$(ls -A "$work/out")" ] || fail "libvirt $spec: left behind: $(ls -A "$work/out")"
    echo "ok: libvirt $spec: $(cat "$work/err")"
done
# The same export without a fault succeeds (the faults were not the only
# way to fail).
"$OVA2VIRT" export -q -c "$uri" full --download -o "$work/out/full.ova" \
    2>"$work/err" || fail "download export: $(cat "$work/err")"
"$OVA2VIRT" verify -q "$work/out/full.ova" 2>"$work/err" ||
    fail "download export does not verify: $(cat "$work/err")"
rm -f "$work/out/full.ova"
virsh_q undefine full >/dev/null
virsh_q vol-delete --pool imp full-disk1.qcow2 >/dev/null

echo "$failures failures"
[ "$failures" -eq 0 ]
