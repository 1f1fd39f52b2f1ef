# streamOptimized VMDKs written by qemu-img (issue 13): no footer and no
# end-of-stream marker, the grain directory and tables in the header area.
# They convert exactly from a file, from a pipe and inside an OVA; the same
# stream cut anywhere is exit 3 with nothing left behind; memory stays small
# and an 8 GiB sparse disk stays sparse. Referee: qemu-img compare.
. "$SRC/tests/cli/lib.sh"

cd "$T" || exit 1
export OVA2VIRT_THREADS=2

# 96 MiB of mixed data (random, text, zeros, data in the last bytes), and an
# 8 GiB disk with a little data in three places.
python3 - <<'EOF'
import os, random
random.seed(13)
size = 96 * 1024 * 1024
words = [b"kernel ", b"root ", b"lorem ", b"ipsum ", b"grain\n", b"/usr/lib "]
with open("mixed.raw", "wb") as f:
    pos = 0
    while pos < size:
        n = min(size - pos, random.randint(64 * 1024, 3 * 1024 * 1024))
        k = random.randrange(3)
        if k == 0:
            f.write(os.urandom(n))
        elif k == 1:
            t = b"".join(random.choice(words) for _ in range(n // 5 + 1))
            f.write(t[:n])
        else:
            f.seek(n, 1)
        pos += n
    # A last grain of random data: it compresses to more than a cluster, so
    # qemu-img pads nothing after it (a small last grain gets zeros to the
    # cluster's end, which read as an end-of-stream marker).
    f.seek(size - 65536)
    f.write(os.urandom(65536))
with open("sparse.raw", "wb") as f:
    f.truncate(8 << 30)
    for at in (0, 5_000_000_000, (8 << 30) - 70_000):
        f.seek(at)
        f.write(os.urandom(40_000) + b"appliance " * 1000)
    f.seek((8 << 30) - 65536)
    f.write(os.urandom(65536))
EOF
for d in mixed sparse; do
    qemu-img convert -f raw -O vmdk -o subformat=streamOptimized \
        $d.raw $d.vmdk || fail "qemu-img could not write $d.vmdk"
done

# The stream's layout, as qemu-img 7.2 writes it: the directory at the
# header's gdOffset (not "at end"), and grains all the way to the end (or
# zero padding): no footer, no end-of-stream marker. grains.txt gets each
# grain marker's offset and the end of the last grain, which is the end of
# the file.
python3 - sparse.vmdk >/dev/null <<'EOF' || fail "sparse.vmdk layout"
import struct, sys
d = open(sys.argv[1], "rb").read()
gd, overhead = struct.unpack_from("<QQ", d, 0x38)
assert gd != 0xFFFFFFFFFFFFFFFF and gd < overhead, "directory not up front"
assert d[-512:] != bytes(512), "ends with zeros"
EOF
python3 - mixed.vmdk >grains.txt <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
gd, overhead = struct.unpack_from("<QQ", d, 0x38)
assert gd != 0xFFFFFFFFFFFFFFFF and gd < overhead, "directory not up front"
p = overhead * 512
while p + 512 <= len(d):
    lba, size = struct.unpack_from("<QI", d, p)
    if size == 0:
        assert d[p:] == bytes(len(d) - p), "a metadata marker: %d" % p
        break
    print(p)
    p += (12 + size + 511) // 512 * 512
assert p == len(d), "the file goes on after its last grain"
print(p)
EOF
checks=$((checks + 1))
[ "$(wc -l <grains.txt)" -gt 100 ] || fail "layout check: $(cat grains.txt)"

same() {  # same A B DESCRIPTION: qemu-img compare says the disks are equal
    checks=$((checks + 1))
    qemu-img compare -q "$1" "$2" 2>/dev/null || fail "$3: $1 and $2 differ"
}
asan=$(ldd "$OVA2VIRT" 2>/dev/null | grep -o libasan | head -1)
rss() {  # rss DESCRIPTION: the peak RSS in file rss is under 64 MiB
    checks=$((checks + 1))
    kib=$(tail -n 1 rss)
    # Under ASan (shadow memory, quarantine) RSS says nothing of ours.
    if [ -z "$asan" ]; then
        [ "$kib" -lt 65536 ] || fail "$1: peak RSS $kib KiB"
    fi
    echo "$1: peak RSS $kib KiB"
}

# From a file and from a pipe, to qcow2 and raw.
for d in mixed sparse; do
    for fmt in qcow2 raw; do
        rm -f out.$fmt
        /usr/bin/time -f %M -o rss "$OVA2VIRT" convert $d.vmdk out.$fmt \
            -O $fmt >/dev/null 2>"$T/.err"
        rc=$? err=$(cat "$T/.err")
        expect_rc 0 "convert $d.vmdk to $fmt"
        same $d.raw out.$fmt "$d.vmdk to $fmt"
        rss "$d.vmdk to $fmt"
        rm -f out.$fmt
        /usr/bin/time -f %M -o rss sh -c \
            "\"$OVA2VIRT\" convert - out.$fmt -O $fmt <$d.vmdk" \
            >/dev/null 2>"$T/.err"
        rc=$? err=$(cat "$T/.err")
        expect_rc 0 "convert - to $fmt <$d.vmdk"
        same $d.raw out.$fmt "$d.vmdk from a pipe to $fmt"
        rss "$d.vmdk from a pipe to $fmt"
        if [ $d = sparse ]; then
            checks=$((checks + 1))
            used=$(du -k out.$fmt | cut -f1)
            [ "$used" -lt 16384 ] || fail "8 GiB sparse to $fmt: $used KiB"
        fi
    done
done
rm -f out.qcow2 out.raw

# Cut short: in the tables, at the first, a middle and the last grain's
# marker, inside a marker, inside a grain, one sector short of the end.
# Exit 3, one line naming a byte offset, and no output or temporary file.
n=$(wc -l <grains.txt)
first=$(sed -n 1p grains.txt)
middle=$(sed -n "$((n / 2))p" grains.txt)
last=$(sed -n "$((n - 1))p" grains.txt)
end=$(sed -n "${n}p" grains.txt)
for cut in 20000 "$first" "$middle" "$last" $((middle + 200)) \
    $((middle + 4096)) $((end - 512)); do
    for how in file pipe; do
        head -c "$cut" mixed.vmdk >cut.vmdk
        if [ $how = file ]; then
            run convert cut.vmdk out.qcow2
        else
            "$OVA2VIRT" convert - out.qcow2 <cut.vmdk >/dev/null 2>"$T/.err"
            rc=$? err=$(cat "$T/.err")
        fi
        expect_rc 3 "cut at byte $cut, from a $how"
        expect_one_line_error "cut at byte $cut, from a $how"
        expect_err_contains "byte " "cut at byte $cut, from a $how"
        checks=$((checks + 1))
        left=$(ls -A | grep -v -e '\.raw$' -e '\.vmdk$' -e '^grains.txt$' \
            -e '^rss$' -e '^state$' -e '^\.out$' -e '^\.err$')
        [ -z "$left" ] || fail "cut at byte $cut, from a $how: left $left"
    done
done
rm -f cut.vmdk

# Inside an OVA (Python's tarfile, a small OVF, a SHA256 manifest): import
# from the file and from a pipe; then the OVA of a cut stream.
mkova() {  # mkova NAME VMDK CAPACITY
    python3 - "$SRC/tests/tools" "$@" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[1])
import ova_pack, ovf_write
name, vmdk, capacity = sys.argv[2], sys.argv[3], int(sys.argv[4])
disk = name + "-disk1.vmdk"
os.makedirs(name, exist_ok=True)
os.replace(vmdk, os.path.join(name, disk)) if vmdk != disk else None
os.chdir(name)
vs = ovf_write.VirtualSystem(name=name, disks=[ovf_write.Disk(
    disk, os.path.getsize(disk), capacity)])
open(name + ".ovf", "w").write(ovf_write.format_ovf(vs))
open(name + ".mf", "w").write(ova_pack.format_manifest(
    [(name + ".ovf", name + ".ovf"), (disk, disk)]))
ova_pack.pack_ova("../" + name + ".ova", [(name + ".ovf", name + ".ovf"),
                                          (name + ".mf", name + ".mf"),
                                          (disk, disk)])
EOF
    rm -rf "$1"
}
cp mixed.vmdk qemu.vmdk
mkova qemu qemu.vmdk $((96 * 1024 * 1024))
mkdir store
run import -c test:///default --storage-dir store --network '*=user' qemu.ova
expect_rc 0 "import an OVA of a qemu-img stream"
same mixed.raw store/qemu-disk1.qcow2 "import qemu.ova"
rm -rf store/*
cat qemu.ova | "$OVA2VIRT" import -c test:///default --storage-dir store \
    --network '*=user' - >/dev/null 2>"$T/.err"
rc=$? err=$(cat "$T/.err")
expect_rc 0 "import - <qemu.ova"
same mixed.raw store/qemu-disk1.qcow2 "import - <qemu.ova"
rm -rf store/* qemu.ova

head -c "$middle" mixed.vmdk >cut.vmdk
mkova cut cut.vmdk $((96 * 1024 * 1024))
for how in file pipe; do
    if [ $how = file ]; then
        run import -c test:///default --storage-dir store --network '*=user' \
            cut.ova
    else
        "$OVA2VIRT" import -c test:///default --storage-dir store \
            --network '*=user' - <cut.ova >/dev/null 2>"$T/.err"
        rc=$? err=$(cat "$T/.err")
    fi
    expect_rc 3 "import an OVA of a cut qemu-img stream from a $how"
    expect_err_contains "truncated?" "import cut.ova from a $how"
    checks=$((checks + 1))
    [ -z "$(ls -A store)" ] || fail "import cut.ova: left $(ls -A store)"
done
rm -rf cut cut.ova store

# Hosted sparse extents from qemu-img (monolithicSparse, and the extent of
# a twoGbMaxExtentSparse disk) whose grain table points into the metadata:
# the descriptor, the redundant directory and table, the directory and
# table. Exit 3, and no output.
head -c 4194304 mixed.raw >small.raw
qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse small.raw \
    mono.vmdk
mkdir two
qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse small.raw \
    two/two.vmdk
for extent in mono.vmdk two/two-s001.vmdk; do
    cp "$extent" keep.vmdk
    for target in descriptor rgd rgt gd gt; do
        python3 - keep.vmdk "$extent" $target <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
rgd, gd = struct.unpack_from("<QQ", d, 0x30)
gt = struct.unpack_from("<I", d, gd * 512)[0]
rgt = struct.unpack_from("<I", d, rgd * 512)[0]
target = dict(descriptor=1, rgd=rgd, rgt=rgt, gd=gd, gt=gt)[sys.argv[3]]
entry = next(gt * 512 + 4 * i for i in range(512)
             if struct.unpack_from("<I", d, gt * 512 + 4 * i)[0])
struct.pack_into("<I", d, entry, target)
open(sys.argv[2], "wb").write(d)
EOF
        src=$extent
        [ "$extent" = mono.vmdk ] || src=two/two.vmdk
        rm -f out.qcow2
        run convert "$src" out.qcow2
        expect_rc 3 "$extent: grain on the $target"
        expect_err_contains "header area" "$extent: grain on the $target"
        checks=$((checks + 1))
        [ ! -e out.qcow2 ] || fail "$extent: grain on the $target: output left"
    done
    cp keep.vmdk "$extent"
    run convert "$src" out.qcow2
    expect_rc 0 "$extent unpatched"
    same small.raw out.qcow2 "$extent unpatched"
    rm -f out.qcow2
done
finish
