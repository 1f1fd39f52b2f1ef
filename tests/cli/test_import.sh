# ova2virt import against libvirt's in-process test driver (test:///default,
# no daemon) with --storage-dir: the pipeline end to end, its reports, its
# options, and what it leaves behind when it fails (issue 6). The boots
# against real QEMU are tests/integration/import_daemon.sh and run.
. "$SRC/tests/cli/lib.sh"

python3 "$SRC/samples/build-samples" "$T/samples" --only bios >/dev/null ||
    { echo "cannot build the sample"; exit 1; }
ova="$T/samples/ova2virt-sample-bios.ova"
raw="$T/samples/ova2virt-sample-bios.raw"
st="$T/storage"
mkdir -p "$st"

# --- the sample, as a file, a pipe and an OVF directory -----------------
imp --json "$ova"
expect_rc 0 "import the sample"
img="$st/ova2virt-sample-bios-disk1.qcow2"
qemu-img compare -q "$raw" "$img" || fail "imported disk differs from the original"
qemu-img check -q "$img" || fail "imported disk fails qemu-img check"
checks=$((checks + 2))
[ "$(json_get 'd["domains"][0]["name"]')" = ova2virt-sample-bios ] || fail "domain name"
[ "$(json_get 'd["domains"][0]["volumes"][0]["format"]')" = qcow2 ] || fail "volume format"
[ "$(json_get 'd["domains"][0]["volumes"][0]["capacity_bytes"]')" = 67108864 ] || fail "capacity"
[ "$(json_get 'd["verification"]["ok"]')" = True ] || fail "verification ok"
[ "$(json_get 'd["verification"]["manifest"]["algorithm"]')" = SHA256 ] || fail "manifest algorithm"
json_get 'd["seconds"]["copy"] >= 0 and len(d["domains"][0]["uuid"]) == 36' | grep -q True ||
    fail "seconds per phase and uuid"
[ "$(stat -c %a "$img")" = 600 ] || fail "image not private (mode $(stat -c %a "$img"))"
checks=$((checks + 7))
rm -f "$st"/*

# The name is taken in the test driver only within one process, so a second
# import of the same name here checks files: refused without --force.
imp "$ova"
expect_rc 0 "import again"
imp "$ova"
expect_rc 1 "the image exists"
expect_err_contains "already exists" "refused without --force"
expect_one_line_error "image exists"
imp --force "$ova"
expect_rc 0 "--force replaces the image"
rm -f "$st"/*

"$OVA2VIRT" import -q -c test:///default --storage-dir "$st" --network '*=user' \
    --name from-pipe - <"$ova"
rc=$?
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "import from a pipe: exit $rc"
qemu-img compare -q "$raw" "$st/from-pipe-disk1.qcow2" || fail "pipe import differs"
rm -f "$st"/*

imp -q --name from-dir --format raw "$T/samples/ova2virt-sample-bios"
expect_rc 0 "import an OVF directory as raw"
qemu-img compare -q -f raw -F raw "$raw" "$st/from-dir-disk1.raw" || fail "raw import differs"
checks=$((checks + 1))
rm -f "$st"/*

# --- dry run: the plan and valid domain XML, nothing touched ------------
imp --dry-run "$ova"
expect_rc 0 "dry run"
expect_empty "dry run"
printf '%s\n' "$out" >"$T/dry.xml"
virt-xml-validate "$T/dry.xml" domain >/dev/null 2>&1 || fail "dry-run XML is not valid"
expect_err_contains "-> $st/ova2virt-sample-bios-disk1.qcow2" "the plan on stderr"
imp --dry-run --json --disk-bus virtio --nic-model virtio "$ova"
expect_rc 0 "dry run --json"
json_get 'd["domains"][0]["domain_xml"]' | grep -q "bus=\"virtio\"" ||
    fail "--disk-bus virtio not in the domain XML"
json_get '[w["id"] for w in d["warnings"]]' | grep -q "policy.disk-bus-changed" ||
    fail "the substitution is a warning with its id"
checks=$((checks + 4))
expect_empty "dry run --json"

# --- collections: one domain per VirtualSystem, --vsys chooses ----------
# A dry run refuses a package whose referenced files are missing, as the
# import does; the corpus descriptors come alone, so each gets a folder
# with (empty: a dry run reads no disk bytes) files for what it references.
with_files() {  # with_files DESCRIPTOR: prints the copy's path
    d="$T/pkg-$(basename "$1" .ovf)"
    mkdir -p "$d"
    cp "$1" "$d/"
    python3 - "$1" "$d" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for href in set(re.findall(r'<File [^>]*href="([^"/]+)"', text)):
    open(f"{sys.argv[2]}/{href}", "wb").close()
EOF
    echo "$d/$(basename "$1")"
}
vsc=$(with_files "$CORPUS/ovf/govmomi_dmtf-dsp0243-2.1.1-example3_vsc.ovf")
imp --dry-run --json "$vsc"
expect_rc 0 "dry run of a collection"
[ "$(json_get '[x["name"] for x in d["domains"]]')" = "['Virtual Appliance One', 'Virtual Appliance Two']" ] ||
    fail "a collection gives one domain per system: $(json_get '[x["name"] for x in d["domains"]]')"
imp --dry-run --json --vsys 1 "$vsc"
expect_rc 0 "--vsys 1"
[ "$(json_get 'len(d["domains"]), d["domains"][0]["name"]')" = "1 Virtual Appliance Two" ] ||
    fail "--vsys chooses one system"
imp --dry-run --name one "$vsc"
expect_rc 2 "--name with a collection needs --vsys"
# Two systems sharing one disk file: each alone, with --vsys.
shared=$(with_files "$CORPUS/ovf/govmomi_ImportOvf2014_complete_vsc.ovf")
imp --dry-run "$shared"
expect_rc 4 "systems sharing a disk file"
expect_err_contains "--vsys" "suggests --vsys"
imp --dry-run --vsys 1 "$shared"  # (vs1 itself mounts the file twice)
expect_rc 0 "one system of those sharing a disk"
checks=$((checks + 3))
expect_empty "collections"

# --- refusals before anything is copied ---------------------------------
run import -c test:///default --storage-dir "$st" --network 'VM Network=nosuch' "$ova"
expect_rc 1 "a source network mapped to a missing libvirt network"
expect_err_contains "'nosuch' does not exist" "names the network"
expect_empty "network refused"
run import -c test:///default --storage-dir "$T/no-such-dir" --network '*=user' "$ova"
expect_rc 1 "missing storage dir"
run import -c test:///default --network '*=user' "$ova"
expect_rc 1 "no pool named default"
expect_err_contains "pool 'default'" "names the pool"
# The test driver's pools take no uploads: the volume made for the disk is
# removed again.
run import -c test:///default --pool default-pool --network '*=user' "$ova"
expect_rc 1 "upload refused by the test driver"
imp --disk-bus floppy "$ova"
expect_rc 2 "bad --disk-bus"
imp --vsys 7 "$ova"
expect_rc 2 "no such --vsys"
expect_empty "refusals"

# --- broken packages: exit 3, one line, nothing left --------------------
python3 - "$ova" "$T" <<'EOF'
import io, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
def write(name, items):
    with tarfile.open(f"{out}/{name}", "w", format=tarfile.USTAR_FORMAT) as t:
        for m, data in items:
            m.size = len(data)
            t.addfile(m, io.BytesIO(data))
def change(suffix, f):
    return [(m, f(d) if m.name.endswith(suffix) else d) for m, d in members]
write("flip-end.ova", change(".vmdk", lambda d: d[:-1] + bytes([d[-1] ^ 1])))
write("flip-grain.ova", change(".vmdk", lambda d: d[:4096] + bytes([d[4096] ^ 0xff]) + d[4097:]))
write("truncated.ova", change(".vmdk", lambda d: d[: len(d) // 2]))
write("traversal.ova", [(m, d) for m, d in members] )
bad = tarfile.TarInfo("../evil.txt"); bad.size = 4
with tarfile.open(f"{out}/traversal.ova", "a") as t:
    t.addfile(bad, io.BytesIO(b"evil"))
EOF
for f in flip-end flip-grain truncated traversal; do
    imp "$T/$f.ova"
    expect_rc 3 "broken package $f"
    expect_one_line_error "broken package $f"
    expect_empty "broken package $f"
done
imp "$T/flip-end.ova"
expect_err_contains "digest mismatch" "a flipped byte is a digest mismatch"
imp --no-verify -q "$T/flip-end.ova"
expect_rc 0 "--no-verify imports anyway"
rm -f "$st"/*

# --- a dry run refuses what the import refuses at the package level ------
# (issue 13.3): a symlink member after the disks, a referenced member
# missing, an archive cut short; same exit status, same error line, from a
# file and from a pipe. And a descriptor in invalid UTF-8 (issue 13.4):
# exit 3 at parse time with line and column, before any disk is copied.
python3 - "$ova" "$T" <<'EOF'
import io, re, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
def write(name, items, extra=()):
    with tarfile.open(f"{out}/{name}", "w", format=tarfile.USTAR_FORMAT) as t:
        for m, data in items:
            m.size = len(data)
            t.addfile(m, io.BytesIO(data))
        for m in extra:
            t.addfile(m)
link = tarfile.TarInfo("evil")
link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
write("symlink-member.ova", members, [link])
write("missing-disk.ova",
      [(m, d) for m, d in members if not m.name.endswith(".vmdk")])
def bad_name(m, d):
    if not m.name.endswith(".ovf"):
        return d
    return re.sub(rb"<Name>[^<]*</Name>", b"<Name>sample\xc0\xaf</Name>", d,
                  count=1)
write("bad-utf8.ova", [(m, bad_name(m, d)) for m, d in members
                       if not m.name.endswith(".mf")])
with open(f"{out}/symlink-member.ova", "rb") as f:
    data = f.read()
with open(f"{out}/cut-short.ova", "wb") as f:
    f.write(data[: len(data) * 2 // 3])
EOF
for f in symlink-member missing-disk cut-short bad-utf8; do
    imp "$T/$f.ova"
    expect_rc 3 "import $f"
    import_err=$err
    imp --dry-run "$T/$f.ova"
    expect_rc 3 "import --dry-run $f"
    expect_one_line_error "import --dry-run $f"
    checks=$((checks + 1))
    [ "$err" = "$import_err" ] ||
        fail "dry run and import refuse $f differently: '$err' vs '$import_err'"
    expect_empty "import --dry-run $f"
done
imp --dry-run "$T/symlink-member.ova"
expect_err_contains "member 'evil': symbolic link to '/etc/shadow'" \
    "the dry run names the link"
"$OVA2VIRT" import --dry-run -c test:///default --storage-dir "$st" \
    --network '*=user' - <"$T/symlink-member.ova" >/dev/null 2>"$T/pipe.err"
rc=$?
checks=$((checks + 2))
[ $rc -eq 3 ] || fail "dry run of a symlink member from a pipe: exit $rc"
grep -q "symbolic link" "$T/pipe.err" || fail "the piped dry run names the link"
imp --dry-run "$T/missing-disk.ova"
expect_err_contains "is listed in the manifest but missing" \
    "the dry run finds the missing disk"
imp --dry-run "$T/bad-utf8.ova"
expect_err_contains "member 'ova2virt-sample-bios.ovf': line" "names the descriptor"
expect_err_contains "invalid UTF-8: overlong encoding (bytes 0xc0 0xaf)" \
    "says what is wrong"
expect_empty "dry runs"

# --- every corpus OVA: the ones that verify import; the others leave nothing
for f in "$CORPUS"/ova/*.ova; do
    name=$(basename "$f" .ova)
    "$OVA2VIRT" verify -q "$f" >/dev/null 2>&1
    verified=$?
    imp -q --name "c-$name" "$f"
    # glance_testserver verifies (it has no manifest) but its "disk" is the
    # four bytes ABCD: not the streamOptimized VMDK its descriptor claims.
    if [ "$name" = glance_testserver ]; then
        expect_rc 3 "corpus $name: the disk is not a VMDK"
        expect_err_contains "not a vmdk image" "corpus $name says why"
        expect_empty "corpus $name"
    elif [ $verified -eq 0 ]; then
        expect_rc 0 "corpus $name verifies, so it imports"
        for img in "$st"/*; do
            case "$img" in
                *.qcow2) qemu-img check -q "$img" || fail "corpus $name: $img fails check" ;;
            esac
        done
        rm -f "$st"/*
    else
        checks=$((checks + 1))
        [ "$rc" -ne 0 ] || fail "corpus $name fails verify but imports"
        expect_one_line_error "corpus $name"
        expect_empty "corpus $name"
    fi
done

# --- the OVF environment: properties on a CD, as vSphere does it --------
pkg="$T/env"
mkdir -p "$pkg"
cp "$CORPUS/ovf/cot_input.ovf" "$pkg/"
cp "$CORPUS/vmdk/cot_input.vmdk" "$pkg/input.vmdk"
head -c 360448 /dev/zero >"$pkg/input.iso"
printf 'sample config\n' >"$pkg/sample_cfg.txt"
imp -q --name env --prop hostname=router1 --prop enable-ssh-server=true "$pkg"
expect_rc 0 "import with --prop"
iso="$st/env-ovf-env.iso"
python3 - "$iso" <<'EOF' || fail "ovf-env.xml on the CD"
import sys
data = open(sys.argv[1], "rb").read()
assert data[32768 + 40:32768 + 47] == b"OVF ENV", "volume label"
start = data.index(b"<Environment")
doc = data[start:data.index(b"</Environment>") + 14].decode()
assert 'oe:key="hostname" oe:value="router1"' in doc, doc
assert 'oe:key="enable-ssh-server" oe:value="true"' in doc, doc
assert 'oe:key="enable-http-server" oe:value="false"' in doc, doc
EOF
checks=$((checks + 1))
rm -f "$st"/*
imp --prop enable-ssh-server=maybe "$pkg"
expect_rc 2 "a boolean property given a non-boolean"
expect_err_contains "enable-ssh-server" "names the property"
imp --prop hostname=$(printf 'x%.0s' $(seq 1 70)) "$pkg"
expect_rc 2 "a value beyond MaxLen(63)"
imp --prop no-such-key=1 "$pkg"
expect_rc 2 "an unknown property"
expect_empty "property refusals"

finish
