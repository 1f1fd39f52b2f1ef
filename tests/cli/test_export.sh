# ova2virt export against libvirt's in-process test driver: domains defined
# in a node file (test:///PATH/node.xml) whose disks are images this test
# makes. Each policy case (VMware's own devices; virtio disks, SCSI and
# NICs; UEFI; several disks and controllers with CD-ROMs and a floppy; no
# disks) is exported and judged by outside referees: xmllint with the DMTF
# schemas, Python's tarfile, qemu-img compare, vmdkinfo, ova2virt verify,
# and an import dry run of the result. Then the failures: each says why in
# one line and leaves nothing behind. The real-QEMU round trip is
# tests/integration/export_daemon.sh.
. "$SRC/tests/cli/lib.sh"

XSD1="$CORPUS/xsd/dsp8023_1.1.1_xo/dsp8023_1.1.1.xsd"
XSD2="$CORPUS/xsd/dsp8023_2.0.1_itchy/dsp8023_2.0.1.xsd"
img="$T/img"
od="$T/out"
mkdir -p "$img" "$od"

# --- the images -----------------------------------------------------------
qemu-img create -q -f qcow2 "$img/os.qcow2" 64M
qemu-io -c 'write -P 0x11 0 2M' -c 'write -P 0x22 40M 1M' \
    -c 'write -P 0x33 63M 64k' "$img/os.qcow2" >/dev/null
qemu-img create -q -f raw "$img/data.raw" 16M
qemu-io -f raw -c 'write -P 0x44 1M 3M' "$img/data.raw" >/dev/null
qemu-img create -q -f qcow2 "$img/scsi.qcow2" 8M
qemu-io -c 'write -P 0x55 4M 64k' "$img/scsi.qcow2" >/dev/null
qemu-img create -q -f qcow2 "$img/sas.qcow2" 4M
head -c 1048576 /dev/urandom >"$img/install.iso"
head -c 1474560 /dev/urandom >"$img/boot.flp"
qemu-img create -q -f qcow2 -b "$img/os.qcow2" -F qcow2 "$img/child.qcow2"

# --- the domains ----------------------------------------------------------
file_disk() { # PATH DEV BUS FORMAT [EXTRA]
    echo "<disk type='file' device='disk'><driver name='qemu' type='$4'/><source file='$1'/><target dev='$2' bus='$3'/>${5:-}</disk>"
}
addr() { # CONTROLLER UNIT
    echo "<address type='drive' controller='$1' bus='0' target='0' unit='$2'/>"
}
domain() { # NAME OS-ATTRS METADATA DEVICES [RUNNING]
    echo "<domain type='test'><name>$1</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>"
    echo "$3<os$2><type arch='x86_64' machine='q35'>hvm</type></os><devices>$4</devices>"
    [ -n "${5:-}" ] || echo "<test:runstate>5</test:runstate>"
    echo "</domain>"
}
ours_os="<metadata><ova2virt:appliance xmlns:ova2virt='https://ova2virt.example/xmlns/1.0'><ova2virt:os cim-id='102' vmware='otherGuest64'/></ova2virt:appliance></metadata>"
debian="<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'><libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo></metadata>"
nic() { echo "<interface type='network'><mac address='$2'/><source network='default'/><model type='$1'/></interface>"; }
{
    echo "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    domain bios "" "$ours_os" "<controller type='scsi' index='0' model='lsilogic'/>$(file_disk "$img/os.qcow2" sda scsi qcow2 "$(addr 0 0)")$(nic e1000 52:54:00:00:01:01)<serial type='pty'><target port='0'/></serial><video><model type='vga' vram='16384'/></video>"
    domain virtio "" "$debian" "<controller type='scsi' index='0' model='virtio-scsi'/>$(file_disk "$img/os.qcow2" vda virtio qcow2)$(file_disk "$img/data.raw" vdb virtio raw)$(file_disk "$img/scsi.qcow2" sda scsi qcow2)$(nic virtio 52:54:00:00:02:01)"
    domain uefi " firmware='efi'" "$debian" "$(file_disk "$img/os.qcow2" sda sata qcow2)$(nic e1000e 52:54:00:00:03:01)"
    domain multi "" "$debian" "<controller type='scsi' index='0' model='lsilogic'/><controller type='scsi' index='1' model='lsisas1068'/>$(file_disk "$img/data.raw" hda ide raw)$(file_disk "$img/os.qcow2" sda sata qcow2 "$(addr 0 0)")$(file_disk "$img/scsi.qcow2" sdb scsi qcow2 "$(addr 0 2)")$(file_disk "$img/sas.qcow2" sdc scsi qcow2 "$(addr 1 1)")<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$img/install.iso'/><target dev='sdd' bus='sata'/><readonly/>$(addr 0 1)</disk><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk><disk type='file' device='floppy'><driver name='qemu' type='raw'/><source file='$img/boot.flp'/><target dev='fda' bus='fdc'/></disk>$(nic e1000 52:54:00:00:04:01)$(nic vmxnet3 52:54:00:00:04:02)"
    domain nodisk "" "$ours_os" "$(nic e1000 52:54:00:00:05:01)"
    domain running "" "$ours_os" "$(file_disk "$img/data.raw" sda sata raw)" yes
    domain missing "" "$ours_os" "$(file_disk "$T/no-such-disk.qcow2" sda sata qcow2)"
    domain dirdisk "" "$ours_os" "$(file_disk "$img" sda sata raw)"
    domain backing "" "$ours_os" "$(file_disk "$img/child.qcow2" sda sata qcow2)"
    domain vdi "" "$ours_os" "$(file_disk "$img/data.raw" sda sata vdi)"
    echo "</node>"
} >"$T/node.xml"
URI="test://$T/node.xml"

# Nothing in the output folder: no package, no temporary file.
expect_nothing() {
    checks=$((checks + 1))
    left=$(ls -A "$od")
    [ -z "$left" ] || fail "$1: left behind: $left"
}

# referee OVA XSD: schema, member order, verify, every file as its source.
# Needs the --json report of the export in $T/.out.
referee() {
    pkg=$1
    cp "$T/.out" "$T/report.json"
    x="$T/x"
    rm -rf "$x" && mkdir -p "$x"
    tar -xf "$pkg" -C "$x" || fail "$pkg: tar cannot unpack it"
    for f in "$x"/*.ovf; do
        xmllint --nonet --noout --schema "$2" "$f" 2>"$T/xmllint.err" ||
            fail "$f: invalid: $(tail -n 2 "$T/xmllint.err")"
    done
    python3 - "$pkg" "$T/report.json" <<'PY' || fail "$pkg: tar members or report"
import json, sys, tarfile
members = tarfile.open(sys.argv[1]).getmembers()
report = json.load(open(sys.argv[2]))
names = [m.name for m in members]
assert names == [f["name"] for f in report["files"]], (names, report["files"])
kinds = [n.rsplit(".", 1)[-1] for n in names]
head = ["ovf", "mf"] + (["cert"] if report["signed"] else [])
assert kinds[:len(head)] == head, names
assert all(k in ("vmdk", "iso", "flp") for k in kinds[len(head):]), names
for m, f in zip(members, report["files"]):
    assert (m.offset_data, m.size) == (f["offset"], f["size"]), (m.name, f)
    assert (m.mode, m.uid, m.gid, m.uname, m.mtime) == (0o644, 0, 0, "root", 0)
PY
    python3 -c '
import json, sys
for d in json.load(open(sys.argv[1]))["disks"]:
    print(d["device"], d["source"], d["format"], d["file"])' "$T/report.json" >"$T/disks"
    while read -r device source format file; do
        checks=$((checks + 1))
        if [ "$device" = disk ]; then
            qemu-img compare -q -f "$format" -F vmdk "$source" "$x/$file" ||
                fail "$pkg: $file differs from $source"
            vmdkinfo "$x/$file" 2>&1 | grep -q "Stream optimized" ||
                fail "$pkg: vmdkinfo refuses $file"
        else
            cmp -s "$source" "$x/$file" || fail "$pkg: $file differs from $source"
        fi
    done <"$T/disks"
    "$OVA2VIRT" verify "$pkg" >"$T/verify.out" 2>&1 ||
        fail "$pkg: verify: $(cat "$T/verify.out")"
    checks=$((checks + 4))
}

# report_get DOMAIN EXPR: EXPR on the first export's --json report (d).
report_get() {
    python3 -c "import json,sys; d=json.load(open('$T/$1.json')); print($2)"
}

# exported DOMAIN [WARNING-ID...]: a good export, judged; the warnings named
# are in its report.
exported() {
    dom=$1
    shift
    run export -c "$URI" "$dom" -o "$od/$dom.ova" --json
    expect_rc 0 "export $dom"
    [ "$rc" -eq 0 ] || return
    cp "$T/.out" "$T/$dom.json"
    for id in "$@"; do
        checks=$((checks + 1))
        json_get '[w["id"] for w in d["warnings"]]' | grep -q "'$id'" ||
            fail "$dom: no warning $id: $(json_get 'd["warnings"]')"
    done
    referee "$od/$dom.ova" "$XSD1"
    # The same bytes, export after export.
    run export -q -c "$URI" "$dom" -o "$od/$dom-again.ova"
    checks=$((checks + 1))
    cmp -s "$od/$dom.ova" "$od/$dom-again.ova" || fail "$dom: two exports differ"
    # OVF 2.0.
    run export -c "$URI" "$dom" -o "$od/$dom-v2.ova" --ovf-version 2 --json
    expect_rc 0 "export --ovf-version 2 $dom"
    referee "$od/$dom-v2.ova" "$XSD2"
    # The same files in a directory: the disks are the OVA's.
    run export -q -c "$URI" "$dom" --ovf-dir "$od/$dom.dir"
    expect_rc 0 "export --ovf-dir $dom"
    run verify "$od/$dom.dir"
    expect_rc 0 "verify --ovf-dir $dom"
    xmllint --nonet --noout --schema "$XSD1" "$od/$dom.dir/$dom.ovf" 2>/dev/null ||
        fail "$dom: the directory's descriptor is invalid"
    rm -rf "$T/x" && mkdir -p "$T/x" && tar -xf "$od/$dom.ova" -C "$T/x"
    for f in "$T"/x/*; do
        case "$f" in *.ovf | *.mf) continue ;; esac
        checks=$((checks + 1))
        cmp -s "$f" "$od/$dom.dir/$(basename "$f")" ||
            fail "$dom: $(basename "$f") differs between the OVA and the directory"
    done
    checks=$((checks + 2))
}

# --- the policy cases -----------------------------------------------------
exported bios
report_get bios '[w["id"] for w in d["warnings"] if w["id"].startswith("export.")]' |
    grep -q '^\[\]$' || fail "bios: VMware's own devices need no substitution"
checks=$((checks + 1))
grep -q 'lsilogic' "$T"/x/bios.ovf || fail "bios: the lsilogic controller"
grep -q '<rasd:ResourceSubType>E1000</rasd:ResourceSubType>' "$T"/x/bios.ovf ||
    fail "bios: the e1000"
grep -q 'vmw:key="firmware" vmw:value="bios"' "$T"/x/bios.ovf || fail "bios: firmware"
grep -q '<vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType>' "$T"/x/bios.ovf ||
    fail "bios: vmx-10"
grep -q '52:54:00:00:01:01' "$T"/x/bios.ovf || fail "bios: the mac is kept"
checks=$((checks + 5))

exported virtio export.disk-bus-changed export.controller-substituted \
    export.nic-model-changed
grep -c 'vmware.sata.ahci' "$T"/x/virtio.ovf | grep -q 1 || fail "virtio: one sata controller"
grep -q 'VirtualSCSI' "$T"/x/virtio.ovf || fail "virtio: pvscsi for virtio-scsi"
grep -q '<rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>' "$T"/x/virtio.ovf ||
    fail "virtio: vmxnet3 for a linux guest's virtio nic"
grep -q 'vmw:osType="debian12_64Guest"' "$T"/x/virtio.ovf || fail "virtio: the os"
checks=$((checks + 4))
# The export imports: its machine as ova2virt would define it.
run import -c test:///default --storage-dir "$T" --network '*=user' --dry-run \
    --name back "$od/virtio.ova"
expect_rc 0 "import --dry-run of the virtio export"
printf '%s\n' "$out" >"$T/back.xml"
checks=$((checks + 3))
[ "$(grep -c "bus=\"sata\"" "$T/back.xml")" -eq 2 ] || fail "virtio back: two sata disks: $out"
grep -q "model=\"vmpvscsi\"" "$T/back.xml" || fail "virtio back: pvscsi: $out"
grep -q "type=\"vmxnet3\"" "$T/back.xml" || fail "virtio back: vmxnet3: $out"

exported uefi export.nvram-not-exported
grep -q 'vmw:key="firmware" vmw:value="efi"' "$T"/x/uefi.ovf || fail "uefi: firmware efi"
grep -q '<rasd:ResourceSubType>E1000e</rasd:ResourceSubType>' "$T"/x/uefi.ovf || fail "uefi: e1000e kept"
checks=$((checks + 2))

exported multi
python3 - "$T/x/multi.ovf" <<'PY' || fail "multi: the hardware items"
import sys, xml.etree.ElementTree as ET
R = "{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData}"
items = ET.parse(sys.argv[1]).getroot().iter("{http://schemas.dmtf.org/ovf/envelope/1}Item")
rows = [{c.tag.replace(R, ""): (c.text or "") for c in i} for i in items]
by_id = {r["InstanceID"]: r for r in rows}
def parent(r):
    p = by_id[r["Parent"]]
    return (p["ResourceType"], p.get("ResourceSubType", ""), p.get("Address"))
# libvirt lists disks by bus and name, not as the XML had them: compare
# them as a set.
disks = [r for r in rows if r["ResourceType"] == "17"]
got = sorted((parent(d), d["AddressOnParent"]) for d in disks)
assert got == sorted([
    (("5", "PIIX4", "0"), "0"), (("20", "vmware.sata.ahci", "0"), "0"),
    (("6", "lsilogic", "0"), "2"), (("6", "lsilogicsas", "1"), "1")]), got
cds = [r for r in rows if r["ResourceType"] == "15"]
packed = [c for c in cds if "HostResource" in c]
empty = [c for c in cds if "HostResource" not in c]
assert len(packed) == 1 and len(empty) == 1, cds
assert packed[0]["HostResource"].startswith("ovf:/file/"), cds
assert parent(packed[0]) == ("20", "vmware.sata.ahci", "0") and packed[0]["AddressOnParent"] == "1"
assert parent(empty[0]) == ("5", "PIIX4", "1") and empty[0]["AddressOnParent"] == "0"
floppies = [r for r in rows if r["ResourceType"] == "14"]
assert len(floppies) == 1 and floppies[0]["HostResource"].startswith("ovf:/file/")
ids = [r["InstanceID"] for r in rows]
assert len(ids) == len(set(ids)) and all(i.isdigit() for i in ids), ids
PY
checks=$((checks + 1))

exported nodisk
[ "$(report_get nodisk 'len(d["disks"])')" = 0 ] || fail "nodisk: no disks"
[ "$(report_get nodisk '[f["role"] for f in d["files"]]')" = "['descriptor', 'manifest']" ] ||
    fail "nodisk: descriptor and manifest only"
checks=$((checks + 2))
rm -rf "${od:?}"/*

# --no-media leaves the drives empty.
run export -c "$URI" multi -o "$od/m.ova" --no-media --json
expect_rc 0 "export --no-media"
json_get '[f["role"] for f in d["files"]].count("image")' | grep -qx 0 ||
    fail "--no-media packed an image"
json_get '[w["id"] for w in d["warnings"]]' | grep -q export.media-dropped ||
    fail "--no-media: no warning"
checks=$((checks + 2))
rm -rf "${od:?}"/*

# --- signatures -------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ova2virt export" \
    -keyout "$T/rsa.key" -out "$T/rsa.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=ova2virt export ec" -keyout "$T/ec.key" -out "$T/ec.pem" 2>/dev/null
for k in rsa ec; do
    run export -c "$URI" bios -o "$od/$k.ova" --sign "$T/$k.key" --cert "$T/$k.pem" --json
    expect_rc 0 "export --sign ($k)"
    referee "$od/$k.ova" "$XSD1"
    run verify --ca "$T/$k.pem" "$od/$k.ova"
    expect_rc 0 "verify the $k signature"
    expect_out_contains "signature: valid, SHA256" "$k signature"
done
run export -c "$URI" bios -o "$od/sha1.ova" --digest sha1 --json
expect_rc 0 "export --digest sha1"
run verify "$od/sha1.ova"
expect_out_contains "manifest: bios.mf (SHA1)" "a SHA1 manifest"
rm -rf "${od:?}"/*
run export -c "$URI" bios -o "$od/bad.ova" --sign "$T/rsa.key" --cert "$T/ec.pem"
expect_rc 2 "a key that is not the certificate's"
expect_one_line_error "mismatched key"
expect_err_contains "does not belong to the certificate" "mismatched key"
expect_nothing "mismatched key"
run export -c "$URI" bios -o "$od/bad.ova" --sign "$T/rsa.key"
expect_rc 2 "--sign without --cert"

# --- failures: one line each, nothing left ------------------------------
run export -c "$URI" no-such-domain -o "$od/x.ova"
expect_rc 1 "unknown domain"
expect_one_line_error "unknown domain"
expect_err_contains "'no-such-domain'" "unknown domain"
expect_nothing "unknown domain"

run export -c "$URI" running -o "$od/x.ova"
expect_rc 1 "running domain"
expect_one_line_error "running domain"
expect_err_contains "is running" "running domain"
expect_err_contains "--live" "running domain"
expect_nothing "running domain"
run export -c "$URI" running -o "$od/live.ova" --json --live
expect_rc 0 "running domain with --live"
json_get '[w["id"] for w in d["warnings"]]' | grep -q "export.live" ||
    fail "--live: no export.live warning"
checks=$((checks + 1))
rm -rf "${od:?}"/*

run export -c "$URI" missing -o "$od/x.ova"
expect_rc 1 "missing disk source"
expect_one_line_error "missing disk source"
expect_err_contains "disk 'sda'" "missing disk source"
expect_err_contains "No such file" "missing disk source"
expect_nothing "missing disk source"

run export -c "$URI" dirdisk -o "$od/x.ova"
expect_rc 1 "a disk source that cannot be read"
expect_one_line_error "unreadable disk source"
expect_err_contains "disk 'sda'" "unreadable disk source"
expect_nothing "unreadable disk source"

OVA2VIRT_FAULT=read:2:EIO run export -c "$URI" bios -o "$od/x.ova"
expect_rc 1 "an I/O error reading the disk"
expect_one_line_error "read error"
expect_err_contains "Input/output error" "read error"
expect_nothing "read error"

run export -c "$URI" backing -o "$od/x.ova"
expect_rc 4 "a qcow2 with a backing file"
expect_one_line_error "backing file"
expect_err_contains "backing file" "backing file"
expect_nothing "backing file"

run export -c "$URI" vdi -o "$od/x.ova"
expect_rc 4 "a format export cannot read"
expect_err_contains "format 'vdi'" "vdi"
expect_nothing "vdi"

# --download reads pool volumes only: a plain file is refused, and the test
# driver has no download at all.
run export -c "$URI" bios -o "$od/x.ova" --download
expect_rc 1 "--download of a file in no pool"
expect_one_line_error "--download of a file"
expect_err_contains "is in no storage pool" "--download of a file"
expect_nothing "--download of a file"

echo keep >"$od/taken.ova"
run export -c "$URI" bios -o "$od/taken.ova"
expect_rc 1 "output exists"
expect_one_line_error "output exists"
expect_err_contains "already exists" "output exists"
checks=$((checks + 1))
[ "$(cat "$od/taken.ova")" = keep ] || fail "the existing output was touched"
mkdir "$od/taken.dir"
run export -c "$URI" bios --ovf-dir "$od/taken.dir"
expect_rc 1 "output directory exists"
expect_err_contains "already exists" "output directory exists"
rm -rf "${od:?}"/*

# A full disk: while the package is set up (the 3rd write), in the middle
# of a disk (the 8th), into a directory.
for fault in "3 -o $od/full.ova" "8 -o $od/full.ova" "3 --ovf-dir $od/full.dir"; do
    n=${fault%% *}
    dest=${fault#* }
    # shellcheck disable=SC2086  # two words
    OVA2VIRT_FAULT=write:$n:ENOSPC run export -c "$URI" multi $dest
    expect_rc 1 "ENOSPC at write $n ($dest)"
    expect_one_line_error "ENOSPC at write $n ($dest)"
    expect_err_contains "No space left" "ENOSPC at write $n ($dest)"
    [ "$n" -eq 8 ] && expect_err_contains "disk '" "ENOSPC in the middle of a disk"
    expect_nothing "ENOSPC at write $n ($dest)"
done

run export -c "$URI" bios -o "$od/x.ovf"
expect_rc 2 "-o with an .ovf name"
expect_err_contains "--ovf-dir" "-o with an .ovf name"
run export -c "$URI" bios -o "$od/x.ova" --ovf-dir "$od/d"
expect_rc 2 "-o and --ovf-dir"
# One name per OVF version (issue 13): what export --help, the export's
# summary, inspect (text and JSON) and the man page call it.
run export --help
expect_out_contains "1 (OVF 1.1" "--help names OVF 1.1"
expect_out_contains "2 (OVF 2.0)" "--help names OVF 2.0"
for v in 1 2; do
    name=$([ "$v" = 2 ] && echo 2.0 || echo 1.1)
    run export -c "$URI" bios -o "$od/named-$v.ova" --ovf-version "$v"
    expect_out_contains "(OVF $name, SHA256 manifest)" "export summary says OVF $name"
    run inspect "$od/named-$v.ova"
    expect_out_contains "(OVF $name)" "inspect says OVF $name"
    run inspect --json "$od/named-$v.ova"
    checks=$((checks + 2))
    [ "$(json_get 'd["ovf_version"]')" = "$name" ] || fail "inspect --json: $out"
    grep -q "OVF $name" "$SRC/docs/ova2virt.1" || fail "the man page does not name OVF $name"
done
rm -f "$od"/named-*.ova
run export -c "$URI" bios --ovf-version 3
expect_rc 2 "--ovf-version 3"
run export -c "$URI" bios --digest md5
expect_rc 2 "--digest md5"
expect_nothing "usage errors"

# SIGTERM in the middle of a disk: the temporary file goes too.
head -c 200000000 /dev/urandom >"$img/big.raw"
sed "s|</node>|$(domain big "" "$ours_os" "$(file_disk "$img/big.raw" sda sata raw)" | tr -d '\n')</node>|" \
    "$T/node.xml" >"$T/node-big.xml"
"$OVA2VIRT" export -q -c "test://$T/node-big.xml" big -o "$od/big.ova" -j 1 \
    >/dev/null 2>"$T/sigterm.err" &
pid=$!
i=0
# Wait until the copy is under way (the temporary file grows).
until [ "$(find "$od" -name '.big.ova.ova2virt-tmp-*' -size +1M | wc -l)" -gt 0 ] ||
    [ $i -gt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
rc=$?
checks=$((checks + 2))
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "SIGTERM: exit $rc"
grep -q "interrupted" "$T/sigterm.err" || fail "SIGTERM: $(cat "$T/sigterm.err")"
expect_nothing "SIGTERM mid-disk"
rm -f "$img/big.raw"

finish
