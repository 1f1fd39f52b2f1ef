# ova2virt convert: formats, streams, reports, failures that leave nothing
# behind, and peak memory on an 8 GiB disk. Referees: qemu-img, vmdkinfo.
. "$SRC/tests/cli/lib.sh"

cd "$T" || exit 1

# A realistic disk: random data, text, zeros, data at the very end; an odd
# size (a whole number of sectors, not of grains or clusters).
python3 - <<'EOF'
import os, random
random.seed(7)
size = 6 * 1024 * 1024 + 7 * 512
d = bytearray(size)
pos = 0
words = [b"kernel ", b"root ", b"lorem ", b"ipsum ", b"grain\n", b"appliance "]
while pos < size:
    n = min(size - pos, random.randint(4096, 200000))
    k = random.randrange(4)
    if k == 0:
        d[pos:pos + n] = os.urandom(n)
    elif k == 1:
        t = b"".join(random.choice(words) for _ in range(n // 5 + 1))
        d[pos:pos + n] = t[:n]
    pos += n
d[-300:] = os.urandom(300)
open("disk.raw", "wb").write(d)
EOF

same() {  # same A B DESCRIPTION: qemu-img compare says the disks are equal
    checks=$((checks + 1))
    if ! qemu-img compare "$1" "$2" >/dev/null 2>&1; then
        fail "$3: qemu-img compare $1 $2 differs"
    fi
}
clean() {  # clean QCOW2 DESCRIPTION: qemu-img check finds nothing
    checks=$((checks + 1))
    if ! qemu-img check "$1" >/dev/null 2>&1; then
        fail "$2: qemu-img check $1: $(qemu-img check "$1" 2>&1)"
    fi
}
nothing_left() {  # nothing_left DESCRIPTION: no output, no temporary file
    checks=$((checks + 1))
    if ls -a | grep -q -e '\.ova2virt-tmp-' -e '^out\.'; then
        fail "$1: left behind: $(ls -a | grep -e ova2virt-tmp -e '^out\.')"
    fi
}

qemu-img convert -f raw -O vmdk -o subformat=streamOptimized disk.raw \
    qemu.vmdk
qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse disk.raw \
    sparse.vmdk
qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentFlat disk.raw \
    flat.vmdk
qemu-img convert -f raw -O qcow2 -c disk.raw packed.qcow2

# Every input kind to every output format; the output format from the
# extension or -O.
for in in qemu.vmdk sparse.vmdk flat.vmdk packed.qcow2; do
    run convert "$in" "x.qcow2"
    expect_rc 0 "$in to qcow2"
    same x.qcow2 disk.raw "$in to qcow2"
    clean x.qcow2 "$in to qcow2"
    run convert "$in" "x.img"
    expect_rc 0 "$in to raw (.img)"
    same x.img disk.raw "$in to raw"
    run convert -O vmdk "$in" "x.stream"
    expect_rc 0 "$in to vmdk with -O"
    same x.stream disk.raw "$in to vmdk"
    rm -f x.qcow2 x.img x.stream
done

# Raw input only when asked (-f raw), or for a .raw/.img no format claims.
cp disk.raw disk.bin
run convert disk.bin x.qcow2
expect_rc 4 "an unknown format is not guessed to be raw"
expect_err_contains "-f raw" "the error says how to ask for raw"
expect_one_line_error "unknown format"
run convert -f raw disk.bin x.qcow2
expect_rc 0 "-f raw"
same x.qcow2 disk.raw "-f raw"
rm -f x.qcow2

# streamOptimized output: VMware's form, read by qemu-img, vmdkinfo and us.
run convert disk.raw out.vmdk -o subformat=streamOptimized,adapter_type=ide \
    -o hwversion=14
expect_rc 0 "raw to streamOptimized with options"
same out.vmdk disk.raw "streamOptimized output"
checks=$((checks + 1))
vmdkinfo out.vmdk 2>&1 | grep -q "Stream optimized" ||
    fail "vmdkinfo does not accept our stream: $(vmdkinfo out.vmdk 2>&1)"
checks=$((checks + 1))
grep -a -q 'ddb.adapterType = "ide"' out.vmdk ||
    fail "adapter_type option not in the descriptor"
checks=$((checks + 1))
grep -a -q 'ddb.virtualHWVersion = "14"' out.vmdk ||
    fail "hwversion option not in the descriptor"
run convert out.vmdk back.raw
expect_rc 0 "our stream back to raw"
same back.raw disk.raw "our stream read back by ova2virt"
rm -f out.vmdk back.raw
run convert disk.raw x.vmdk -o subformat=monolithicSparse
expect_rc 4 "only streamOptimized is written"
run convert disk.raw x.qcow2 -o compat=1.1
expect_rc 2 "qcow2 takes no -o options"

# --json report.
run convert --json qemu.vmdk x.qcow2
expect_rc 0 "--json"
checks=$((checks + 1))
json_get "d['input_format'], d['output_format'], d['capacity_bytes']" |
    grep -q "vmdk-streamOptimized qcow2 6295040" ||
    fail "--json formats and capacity: $out"
checks=$((checks + 1))
json_get "all(k in d for k in ('bytes_read','bytes_written','allocated_clusters','seconds'))" |
    grep -q True || fail "--json lacks a key: $out"
checks=$((checks + 1))
json_get "d['bytes_read'] == $(stat -c %s qemu.vmdk) and d['allocated_clusters'] > 0" |
    grep -q True || fail "--json figures: $out"
checks=$((checks + 1))
[ -z "$err" ] || fail "--json wrote to stderr: $err"
rm -f x.qcow2

# Pipes: a stream from stdin, a stream to stdout; gzip-compressed input.
"$OVA2VIRT" convert - x.qcow2 <qemu.vmdk 2>"$T/.err"
rc=$?
expect_rc 0 "streamOptimized from a pipe"
same x.qcow2 disk.raw "stdin"
rm -f x.qcow2
"$OVA2VIRT" convert packed.qcow2 - -O vmdk 2>/dev/null |
    "$OVA2VIRT" convert - x.raw 2>"$T/.err"
rc=$?
expect_rc 0 "qcow2 to a vmdk stream on stdout, piped into another convert"
same x.raw disk.raw "stdout to stdin"
rm -f x.raw
gzip -c qemu.vmdk >qemu.vmdk.gz
run convert qemu.vmdk.gz x.qcow2
expect_rc 0 "gzip-compressed vmdk"
same x.qcow2 disk.raw "gzip input"
rm -f x.qcow2
# (stdin redirected from a file is seekable, so qcow2 works from there.)
"$OVA2VIRT" convert - x.raw <packed.qcow2 2>/dev/null
rc=$?
expect_rc 0 "qcow2 on stdin redirected from a file"
same x.raw disk.raw "qcow2 on stdin from a file"
rm -f x.raw
cat packed.qcow2 | "$OVA2VIRT" convert - out.raw 2>"$T/.err"
rc=$?
err=$(cat "$T/.err")
expect_rc 4 "qcow2 needs a seekable input"
expect_one_line_error "qcow2 from a pipe"
nothing_left "qcow2 from a pipe"
run convert packed.qcow2 - -O raw
expect_rc 2 "only vmdk goes to stdout"

# Failures exit with the right status, in one line, naming the file, and
# leave nothing behind.
head -c 200000 qemu.vmdk >cut.vmdk
run convert cut.vmdk out.qcow2
expect_rc 3 "truncated stream"
expect_one_line_error "truncated stream"
expect_err_contains "ova2virt: cut.vmdk: " "the error names the file"
nothing_left "truncated stream"
cp qemu.vmdk flipped.vmdk
printf 'XXXXXXXX' | dd of=flipped.vmdk bs=1 seek=70000 conv=notrunc 2>/dev/null
run convert flipped.vmdk out.raw
expect_rc 3 "corrupt grain"
expect_err_contains "at byte" "the error names the offset"
nothing_left "corrupt grain"
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 8 FLAT "/etc/passwd" 0\n' >evil.vmdk
run convert evil.vmdk out.raw
expect_rc 3 "an absolute extent path is refused"
expect_err_contains "absolute path" "says why"
nothing_left "absolute extent"
printf '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="vmfsSparse"\nRW 8 VMFSSPARSE "x-delta.vmdk"\n' >delta.vmdk
run convert delta.vmdk out.raw
expect_rc 4 "vmfsSparse is unsupported"
expect_err_contains "'vmfsSparse'" "names the createType"
nothing_left "vmfsSparse"
printf 'conectix' >old.vhd
run convert old.vhd out.qcow2
expect_rc 4 "VHD is named and refused"
run convert missing.vmdk out.qcow2
expect_rc 1 "missing input"
run convert qemu.vmdk out.txt
expect_rc 2 "unknown output extension"
run convert qemu.vmdk x.qcow2 -O qed
expect_rc 2 "unknown -O"
run convert qemu.vmdk
expect_rc 2 "missing OUT"

# An existing output is kept unless --force.
echo keep >exists.qcow2
run convert qemu.vmdk exists.qcow2
expect_rc 1 "existing output"
checks=$((checks + 1))
[ "$(cat exists.qcow2)" = keep ] || fail "existing output was modified"
run convert --force qemu.vmdk exists.qcow2
expect_rc 0 "--force replaces"
same exists.qcow2 disk.raw "--force"
run convert exists.qcow2 exists.qcow2 --force
expect_rc 2 "converting a file onto itself"

# Disk full in the middle: nothing left behind. (The second write: data,
# tables and header make at least three, however the writer thread gathers
# the data.)
OVA2VIRT_FAULT=write:2:ENOSPC "$OVA2VIRT" convert qemu.vmdk out.qcow2 \
    2>"$T/.err"
rc=$?
err=$(cat "$T/.err")
expect_rc 1 "ENOSPC"
expect_err_contains "No space left" "says the disk is full"
nothing_left "ENOSPC"

# 8 GiB: peak memory stays under 64 MiB (measured by /usr/bin/time), and
# an interrupt mid-copy leaves nothing behind.
truncate -s 8G big.raw
for at in 0 1000 4000 8191; do
    dd if=disk.raw of=big.raw bs=1M seek="$at" count=4 conv=notrunc 2>/dev/null
done
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized big.raw big.vmdk
# What the binary holds doing nothing (large under the sanitizers, about
# 3 MiB otherwise) is not the conversion's.
/usr/bin/time -f %M -o rss "$OVA2VIRT" --version >/dev/null
base=$(tail -n 1 rss)
for step in "big.vmdk big.qcow2" "big.qcow2 big2.vmdk" "big.vmdk big3.raw"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f %M -o rss "$OVA2VIRT" convert $step 2>/dev/null
    rc=$?
    expect_rc 0 "8 GiB: $step"
    checks=$((checks + 1))
    kib=$(tail -n 1 rss)
    echo "peak RSS for convert $step: $kib KiB (idle: $base KiB)"
    [ $((kib - base)) -lt 65536 ] || fail "8 GiB $step: peak RSS $kib KiB"
done
same big2.vmdk big.raw "8 GiB round trip"
"$OVA2VIRT" convert -j 1 -f raw big.raw out.qcow2 2>"$T/.err" &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
checks=$((checks + 1))
[ "$rc" -ne 0 ] || fail "SIGTERM: the conversion finished anyway (too fast?)"
nothing_left "SIGTERM"
rm -f big.raw big.vmdk big.qcow2 big2.vmdk big3.raw

finish
