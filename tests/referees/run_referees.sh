# Every export variant through two OVF readers nobody on this project wrote
# (../shared/referees/README.md): COT 2.2.1 (Cisco's Common OVF Tool, which
# reads OVF 2 the way VirtualBox writes it) and govmomi's vcsim + govc
# (VMware's Go SDK and its vSphere simulator).
#
# Source domains are shut-off domains of libvirt's test driver, defined in a
# node file whose disks are images made here: BIOS with a SCSI disk and an
# ISO on IDE; UEFI with a paravirtual SCSI disk and 1024.5 MiB of memory; several disks on IDE, LSI
# Logic and paravirtual SCSI with a packed and an empty CD-ROM and two NICs;
# a disk on LSI SAS; virtio disks (exported on SATA) with a SATA CD-ROM.
# Each is exported as OVF 1 and OVF 2; the BIOS one also with SHA1 and
# SHA512 manifests; BIOS (OVF 1) and several disks (OVF 2) signed.
#
# For every export:
#   xmllint      the descriptor validates against DSP8023 1.1.1 / 2.0.1;
#   cot info     reads it without error and lists every disk (on its bus),
#                CD-ROM, NIC, the CPUs and the memory the descriptor states;
#   cot edit-product -v 9.9
#                rewrites it into a package that `ova2virt verify` passes,
#                that `ova2virt inspect` reads as the same machine with the
#                new version, and that `ova2virt import` defines (test:///);
#   vcsim        `govc import.ova` builds a VM with the descriptor's CPUs,
#                memory, IDE and SCSI controllers, disks (controller kind and
#                capacity), CD-ROMs (and which hold an image) and NICs.
#
# The referees' own limits are named where they bite, never worked around
# by writing what VMware or VirtualBox would not:
#   COT-DIGEST   COT checks every manifest line with SHA1 in OVF 1.x and
#                SHA256 in OVF 2.x, whatever algorithm the line names: a
#                correct manifest of another digest draws "may have been
#                tampered with" on every line (its rewrite then writes its
#                own algorithm);
#   COT-EMPTY-CD `cot info` lists files: an empty CD-ROM drive is not in its
#                table (its rewrite keeps the drive, checked through
#                `ova2virt inspect`);
#   COT-NETWORK  COT's OVF 2 rewrite keeps a network only when an
#                EthernetPortItem in its `.xsd` EPASD namespace connects to
#                it; our NICs are RASD Items (what govmomi reads, and valid),
#                so the rewritten package loses its NetworkSection;
#   COT-SIGN     COT never checks a signature, and its rewrite drops it;
#   VCSIM-SATA   vcsim refuses any SATA controller ("unsupported resource
#                type: 20"): the virtio variant is judged by COT only, and
#                vcsim's refusal is checked to be exactly that;
#   VCSIM-SAS    govmomi names the LSI SAS adapter "lsilogic-sas" and so
#                refuses "lsilogicsas", the subtype ovftool writes and
#                vSphere reads ("unknown SCSI controller type"): the sas
#                variant is judged by COT only, and the refusal checked;
#   VCSIM-MAC    vcsim ignores MAC addresses, firmware and cores per socket.
#
# Environment (set by ctest): OVA2VIRT, CORPUS, SRC, BUILD, and REFEREES
# (the directory tests/referees/setup.sh built COT, govc and vcsim in).
. "$SRC/tests/cli/lib.sh"
: "${REFEREES:?}"
COT=$REFEREES/venv/bin/cot
GOVC=$REFEREES/bin/govc
VCSIM=$REFEREES/bin/vcsim
JUDGE="python3 $SRC/tests/referees/judge.py"
for tool in "$COT" "$GOVC" "$VCSIM"; do
    [ -x "$tool" ] || { echo "referees: $tool is missing; run tests/referees/setup.sh" >&2; exit 1; }
done
XSD1="$CORPUS/xsd/dsp8023_1.1.1_xo/dsp8023_1.1.1.xsd"
XSD2="$CORPUS/xsd/dsp8023_2.0.1_itchy/dsp8023_2.0.1.xsd"
img="$T/img"
od="$T/out"
mkdir -p "$img" "$od"
started=$(date +%s)

# --- vcsim, on loopback, stopped on any exit ------------------------------
vcsim_pid=""
stop_vcsim() {
    if [ -n "$vcsim_pid" ]; then
        kill "$vcsim_pid" 2>/dev/null
        wait "$vcsim_pid" 2>/dev/null
    fi
    rm -rf "$T"
}
trap stop_vcsim EXIT
trap 'exit 1' INT TERM
mkdir -p "$T/vcsim"
# Port 0: the system picks a free one, and vcsim prints its URL.
TMPDIR="$T/vcsim" "$VCSIM" -l 127.0.0.1:0 >"$T/vcsim.out" 2>"$T/vcsim.err" &
vcsim_pid=$!
url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/^export GOVC_URL=\([^ ]*\) .*/\1/p' "$T/vcsim.out")
    [ -n "$url" ] && break
    kill -0 "$vcsim_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$url" ] || { echo "referees: vcsim did not start: $(cat "$T/vcsim.err")" >&2; exit 1; }
export GOVC_URL="$url" GOVC_INSECURE=1 GOVC_RESOURCE_POOL=/DC0/host/DC0_C0/Resources

# --- the images and domains -----------------------------------------------
qemu-img create -q -f qcow2 "$img/os.qcow2" 64M
qemu-io -c 'write -P 0x11 0 2M' -c 'write -P 0x22 40M 1M' "$img/os.qcow2" >/dev/null
qemu-img create -q -f raw "$img/data.raw" 16M
qemu-io -f raw -c 'write -P 0x44 1M 3M' "$img/data.raw" >/dev/null
qemu-img create -q -f qcow2 "$img/scsi.qcow2" 8M
qemu-img create -q -f qcow2 "$img/sas.qcow2" 1G
head -c 1048576 /dev/urandom >"$img/install.iso"

disk() { # PATH DEV BUS FORMAT [ADDRESS]
    echo "<disk type='file' device='disk'><driver name='qemu' type='$4'/><source file='$1'/><target dev='$2' bus='$3'/>${5:-}</disk>"
}
addr() { # CONTROLLER UNIT
    echo "<address type='drive' controller='$1' bus='0' target='0' unit='$2'/>"
}
cdrom() { # DEV BUS [ISO]
    src=""
    [ -n "${3:-}" ] && src="<source file='$3'/>"
    echo "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>$src<target dev='$1' bus='$2'/><readonly/></disk>"
}
nic() { echo "<interface type='network'><mac address='$2'/><source network='default'/><model type='$1'/></interface>"; }
debian="<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'><libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo></metadata>"
domain() { # NAME MACHINE OS-ATTRS MEMORY-KIB VCPUS DEVICES
    echo "<domain type='test'><name>$1</name><memory unit='KiB'>$4</memory><vcpu>$5</vcpu>$debian"
    echo "<os$3><type arch='x86_64' machine='$2'>hvm</type></os><devices>$6</devices>"
    echo "<test:runstate>5</test:runstate></domain>"
}
{
    echo "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    domain bios pc "" 262144 2 "<controller type='scsi' index='0' model='lsilogic'/>$(disk "$img/os.qcow2" sda scsi qcow2 "$(addr 0 0)")$(cdrom hdc ide "$img/install.iso")$(nic e1000 52:54:00:00:01:01)"
    # 1024.5 MiB: exported as 1028 MiB (VMware's 4 MiB granule), in the MiB
    # VirtualBox and vcsim read.
    domain uefi q35 " firmware='efi'" 1049088 4 "<controller type='scsi' index='0' model='vmpvscsi'/>$(disk "$img/os.qcow2" sda scsi qcow2 "$(addr 0 0)")$(nic vmxnet3 52:54:00:00:02:01)"
    domain multi pc "" 2097152 2 "<controller type='scsi' index='0' model='lsilogic'/><controller type='scsi' index='1' model='vmpvscsi'/>$(disk "$img/data.raw" hda ide raw)$(disk "$img/os.qcow2" sda scsi qcow2 "$(addr 0 0)")$(disk "$img/scsi.qcow2" sdb scsi qcow2 "$(addr 0 2)")$(disk "$img/sas.qcow2" sdc scsi qcow2 "$(addr 1 1)")$(cdrom hdc ide "$img/install.iso")$(cdrom hdd ide)$(nic e1000 52:54:00:00:03:01)$(nic vmxnet3 52:54:00:00:03:02)"
    domain sas pc "" 524288 1 "<controller type='scsi' index='0' model='lsisas1068'/>$(disk "$img/sas.qcow2" sda scsi qcow2 "$(addr 0 0)")$(nic e1000 52:54:00:00:05:01)"
    domain virtio q35 "" 524288 1 "$(disk "$img/os.qcow2" vda virtio qcow2)$(disk "$img/data.raw" vdb virtio raw)$(cdrom sda sata "$img/install.iso")$(nic virtio 52:54:00:00:04:01)"
    echo "</node>"
} >"$T/node.xml"
URI="test://$T/node.xml"

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ova2virt referee" \
    -keyout "$T/sign.key" -out "$T/sign.pem" 2>/dev/null

# The machine `ova2virt inspect --json` sees, less what names the package
# (its members, their offsets, the input path) and what the rewrite is
# meant to change (the product version), and the networks when COT drops
# them (COT-NETWORK).
machine_of() { # OVA OUT [drop-networks]
    "$OVA2VIRT" inspect --json "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("input", "descriptor", "manifest", "files", "members", "signature",
          "certificate", "warnings", "package"):
    d.pop(k, None)
if sys.argv[1] == "drop-networks":
    d.pop("networks", None)
for vm in d.get("virtual_systems", []):
    vm.pop("products", None)
print(json.dumps(d, indent=1, sort_keys=True))' "${3:-}" >"$2"
}

# Table rows: variant, referee, verdict (pass, or the limit named).
table="$T/table"
: >"$table"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$table"; }

# judge NAME DOMAIN OVF-VERSION DIGEST [EXPORT-ARGS...]
judge() {
    name=$1 dom=$2 v=$3 digest=$4
    shift 4
    pkg="$od/$name.ova"
    run export -q -c "$URI" "$dom" -o "$pkg" --ovf-version "$v" --digest "$digest" "$@"
    expect_rc 0 "$name: export"
    [ "$rc" -eq 0 ] || return
    x="$T/x-$name"
    mkdir -p "$x"
    tar -xf "$pkg" -C "$x"
    ovf="$x/$dom.ovf"
    xsd=$XSD1
    [ "$v" = 2 ] && xsd=$XSD2
    checks=$((checks + 1))
    xmllint --nonet --noout --schema "$xsd" "$ovf" 2>"$T/xmllint.err" ||
        fail "$name: invalid against $(basename "$xsd"): $(tail -n 2 "$T/xmllint.err")"
    # The descriptor's own statement of its version is what inspect shows.
    run inspect "$pkg"
    expect_out_contains "(OVF $([ "$v" = 2 ] && echo 2.0 || echo 1.1))" "$name: inspect names the version"

    # --- COT reads it
    "$COT" info "$pkg" >"$T/cot.txt" 2>&1
    cot_rc=$?
    checks=$((checks + 2))
    [ "$cot_rc" -eq 0 ] || fail "$name: cot info exit $cot_rc: $(tail -n 3 "$T/cot.txt")"
    $JUDGE cot "$ovf" "$T/cot.txt" >"$T/judge.txt" || fail "$name: cot info: $(cat "$T/judge.txt")"
    tampered=$(grep -c "may have been tampered with" "$T/cot.txt")
    verdict=pass
    cot_digest=sha1
    [ "$v" = 2 ] && cot_digest=sha256
    checks=$((checks + 1))
    if [ "$digest" != "$cot_digest" ]; then
        # COT-DIGEST: one complaint per manifest line, each a file we wrote
        # and `ova2virt verify` (and openssl, in cli.export) checked.
        [ "$tampered" -eq "$(grep -c . "$x/$dom.mf")" ] ||
            fail "$name: COT-DIGEST should flag every manifest line, flagged $tampered"
        verdict="pass; limit COT-DIGEST"
    else
        [ "$tampered" -eq 0 ] || fail "$name: cot finds a bad digest: $(grep -B3 tampered "$T/cot.txt" | head -n 4)"
    fi
    empty_cds=$($JUDGE expect "$ovf" | python3 -c '
import json, sys
print(sum(1 for _bus, image in json.load(sys.stdin)["cdroms"] if not image))')
    [ "$empty_cds" -gt 0 ] && verdict="$verdict; limit COT-EMPTY-CD"
    if [ -n "${signed:-}" ]; then
        # COT-SIGN: the signature is judged by ova2virt verify (and openssl
        # in cli.export), not by COT.
        run verify --ca "$T/sign.pem" "$pkg"
        expect_rc 0 "$name: verify --ca of the signed export"
        verdict="$verdict; limit COT-SIGN"
    fi
    row "$name" "cot info" "$verdict"

    # --- COT rewrites it; ova2virt reads the rewrite back
    re="$od/$name-cot.ova"
    "$COT" edit-product "$pkg" -v 9.9 -o "$re" >"$T/cot-edit.txt" 2>&1
    cot_rc=$?
    checks=$((checks + 1))
    [ "$cot_rc" -eq 0 ] || fail "$name: cot edit-product exit $cot_rc: $(tail -n 3 "$T/cot-edit.txt")"
    run verify "$re"
    expect_rc 0 "$name: verify of COT's rewrite"
    drop=""
    verdict=pass
    if [ "$v" = 2 ]; then
        drop=drop-networks
        checks=$((checks + 1))
        grep -q "No networks left - removing NetworkSection" "$T/cot-edit.txt" ||
            fail "$name: COT-NETWORK no longer bites; compare the networks too"
        verdict="pass; limit COT-NETWORK"
    fi
    if [ -n "${signed:-}" ]; then
        checks=$((checks + 1))
        tar -tf "$re" | grep -q '\.cert$' && fail "$name: COT-SIGN: COT kept a signature it never checked"
        verdict="$verdict; limit COT-SIGN"
    fi
    machine_of "$pkg" "$T/before.json" $drop
    machine_of "$re" "$T/after.json" $drop
    checks=$((checks + 2))
    cmp -s "$T/before.json" "$T/after.json" ||
        fail "$name: COT's rewrite reads as another machine: $(diff "$T/before.json" "$T/after.json" | head -n 12)"
    "$OVA2VIRT" inspect --json "$re" 2>/dev/null | grep -q '"version": "9.9"' ||
        fail "$name: COT's rewrite lost its product version"
    mkdir -p "$T/st-$name"
    run import -q -c test:///default --storage-dir "$T/st-$name" "$re"
    expect_rc 0 "$name: import of COT's rewrite"
    rm -rf "$T/st-$name" "$re"
    row "$name" "cot edit-product, verify, import" "$verdict"

    # --- vcsim imports it
    limit=""
    if grep -q 'vmware.sata.ahci' "$ovf"; then
        limit=VCSIM-SATA refusal="unsupported resource type: 20"
    elif grep -q '>lsilogicsas<' "$ovf"; then
        limit=VCSIM-SAS refusal="unknown SCSI controller type 'lsilogicsas'"
    fi
    "$GOVC" import.ova -name "$name" "$pkg" >"$T/govc.txt" 2>&1
    g_rc=$?
    checks=$((checks + 1))
    if [ -n "$limit" ]; then
        # The refusal is vcsim's own, and exactly the one known.
        [ "$g_rc" -ne 0 ] && grep -qF "$refusal" "$T/govc.txt" ||
            fail "$name: $limit: vcsim says: $(tail -n 3 "$T/govc.txt")"
        row "$name" "vcsim" "limit $limit"
    elif [ "$g_rc" -ne 0 ]; then
        fail "$name: govc import.ova exit $g_rc: $(tail -n 3 "$T/govc.txt")"
        row "$name" "vcsim" "FAIL"
    else
        "$GOVC" device.info -json -vm "$name" >"$T/devices.json" 2>"$T/govc.err" ||
            fail "$name: govc device.info: $(cat "$T/govc.err")"
        hw=$("$GOVC" vm.info -r -json "$name" | python3 -c '
import json, sys
h = json.load(sys.stdin)["VirtualMachines"][0]["Config"]["Hardware"]
print(h["NumCPU"], h["MemoryMB"])')
        checks=$((checks + 1))
        # shellcheck disable=SC2086
        $JUDGE vcsim "$ovf" "$T/devices.json" $hw >"$T/judge.txt" ||
            fail "$name: vcsim: $(cat "$T/judge.txt")"
        "$GOVC" vm.destroy "$name" >/dev/null 2>&1
        row "$name" "vcsim" "pass; limit VCSIM-MAC"
    fi
    rm -rf "$x" "$pkg"
}

for dom in bios uefi multi sas virtio; do
    judge "$dom-ovf1" "$dom" 1 sha256
    judge "$dom-ovf2" "$dom" 2 sha256
done
for digest in sha1 sha512; do
    judge "bios-ovf1-$digest" bios 1 "$digest"
    judge "bios-ovf2-$digest" bios 2 "$digest"
done
signed=1
judge bios-ovf1-signed bios 1 sha256 --sign "$T/sign.key" --cert "$T/sign.pem"
judge multi-ovf2-signed multi 2 sha512 --sign "$T/sign.key" --cert "$T/sign.pem"
signed=""

echo "variant x referee (seconds: $(($(date +%s) - started))):"
column -t -s "$(printf '\t')" "$table" 2>/dev/null || cat "$table"
finish
