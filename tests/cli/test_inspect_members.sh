# ova2virt inspect: members (name, offset of data, size) as Python's tarfile
# sees them, for the corpus and for archives built here; the same from
# stdin; hostile and broken packages fail with one line.
. "$SRC/tests/cli/lib.sh"

MKTAR="$BUILD/tests/support/make-test-tar"
[ -x "$MKTAR" ] || { echo "FAIL: $MKTAR not built"; exit 1; }

# python_members FILE: "name offset size" per regular member, by tarfile.
python_members() {
    python3 - "$1" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'r:*') as t:
    for m in t:
        if m.isreg() and not m.name.split('/')[-1].startswith('._'):
            name = m.name[2:] if m.name.startswith('./') else m.name
            print(name, m.offset_data, m.size)
EOF
}

# ours_members: the same from the last run's --json.
ours_members() {
    json_get "'\\n'.join('%s %d %d' % (m['name'], m['offset'], m['size']) for m in d['members'])"
}

# expect_members FILE DESCRIPTION: inspect --json lists what tarfile lists,
# and stdin gives the same members.
expect_members() {
    run inspect --json "$1"
    expect_rc 0 "$2"
    want=$(python_members "$1")
    got=$(ours_members)
    checks=$((checks + 1))
    [ "$got" = "$want" ] || fail "$2: members differ from tarfile's:
ours:
$got
tarfile:
$want"
    cat "$1" | "$OVA2VIRT" inspect --json - >"$T/.out" 2>"$T/.err"
    rc=$?
    expect_rc 0 "$2 from stdin"
    checks=$((checks + 1))
    [ "$(ours_members)" = "$want" ] || fail "$2: stdin members differ"
    checks=$((checks + 1))
    [ "$(json_get "d['streamed']")" = True ] || fail "$2: stdin is not streamed"
}

# --- the corpus ----------------------------------------------------------
for f in "$CORPUS"/ova/*.ova; do
    case "$(basename "$f")" in
        ganeti_no_ovf.ova | glance_testserver-no-ovf.ova)
            run inspect "$f"
            expect_rc 3 "inspect $f"
            expect_one_line_error "inspect $f"
            expect_err_contains "no ovf descriptor" "inspect $f" ;;
        glance_testserver-not-tar.ova)
            run inspect "$f"
            expect_rc 3 "inspect $f"
            expect_one_line_error "inspect $f"
            expect_err_contains "not a tar archive" "inspect $f" ;;
        glance_testserver-bad-ovf.ova)
            run inspect "$f"
            expect_rc 3 "inspect $f"
            expect_one_line_error "inspect $f" ;;
        *)
            expect_members "$f" "inspect $f" ;;
    esac
done

run inspect "$CORPUS/ova/vboxvk_tdAppliance1-t4.ova"
expect_rc 0 "human inspect"
expect_out_contains "certificate: tdAppliance1-t4.cert" "human inspect shows the certificate"
expect_out_contains "113152            556  file        tdAppliance1-t4-disk1.vmdk.gz" \
    "human inspect shows offset and size"
run inspect --json "$CORPUS/ova/vboxvk_tdAppliance1-t4.ova"
checks=$((checks + 1))
[ "$(json_get "(d['descriptor'], d['manifest'], d['certificate'], d['kind'])")" = \
    "('tdAppliance1-t4.ovf', 'tdAppliance1-t4.mf', 'tdAppliance1-t4.cert', 'ova')" ] ||
    fail "inspect --json names descriptor, manifest and certificate"
run inspect --json "$CORPUS/ova/glance_testserver-no-disk.ova"
expect_rc 0 "inspect of a package missing a disk"
checks=$((checks + 1))
[ "$(json_get "[w['id'] for w in d['warnings']]")" = "['ova.referenced-missing']" ] ||
    fail "inspect warns about the missing disk"

# --- archives built here: ustar, pax and GNU long names, gzip ------------
printf '<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>\n' >"$T/app.ovf"
head -c 100000 /dev/urandom >"$T/disk.vmdk"
long=$(printf 'n%.0s' $(seq 1 200))
"$MKTAR" --format ustar "$T/ustar.ova" file:app.ovf=@"$T/app.ovf" \
    file:disk.vmdk=@"$T/disk.vmdk" text:empty.txt= text:"$(printf 'p%.0s' $(seq 1 80))/$(printf 'q%.0s' $(seq 1 80))"=x
expect_members "$T/ustar.ova" "ustar"
for format in pax gnu; do
    "$MKTAR" --format $format "$T/$format.ova" file:app.ovf=@"$T/app.ovf" \
        file:"$long".vmdk=@"$T/disk.vmdk" text:"$(printf 'd\303\257sk')".vmdk=x \
        file:after.vmdk=@"$T/disk.vmdk"
    expect_members "$T/$format.ova" "$format long names"
done
gzip -n -c "$T/pax.ova" >"$T/pax.ova.gz"
expect_members "$T/pax.ova.gz" "gzip-wrapped pax"
run inspect --json "$T/pax.ova.gz"
checks=$((checks + 1))
[ "$(json_get "d['kind']")" = "ova+gzip" ] || fail "gzip kind"

# A member over 8 GiB (a sparse file: no disk space), pax and GNU.
for format in pax gnu; do
    "$MKTAR" --format $format "$T/big.ova" file:app.ovf=@"$T/app.ovf" \
        hole:big.vmdk=8589938689 text:after.txt=after
    run inspect --json "$T/big.ova"
    expect_rc 0 "$format member over 8 GiB"
    want=$(python_members "$T/big.ova")
    checks=$((checks + 1))
    [ "$(ours_members)" = "$want" ] || fail "$format over 8 GiB: $(ours_members) vs $want"
    rm -f "$T/big.ova"
done

# AppleDouble members are skipped, with a warning.
"$MKTAR" "$T/mac.ova" file:app.ovf=@"$T/app.ovf" text:._app.ovf=meta \
    file:disk.vmdk=@"$T/disk.vmdk"
expect_members "$T/mac.ova" "AppleDouble"
run inspect "$T/mac.ova"
expect_err_contains "ova.appledouble" "AppleDouble warning"

# An .ovf directory: files at offset 0.
mkdir "$T/dir"
cp "$T/app.ovf" "$T/dir/app.ovf"
run inspect --json "$T/dir"
expect_rc 0 "inspect a directory"
checks=$((checks + 1))
[ "$(json_get "(d['kind'], d['members'][0]['name'], d['members'][0]['offset'])")" = \
    "('ovf-directory', 'app.ovf', 0)" ] || fail "directory listing"

# --- hostile and broken ----------------------------------------------------
for entry in "text:/etc/passwd=x" "text:../x=y" "symlink:l=/etc/shadow" \
    "hardlink:h=app.ovf" "chardev:c" "fifo:f" "text:app.ovf=dup"; do
    "$MKTAR" "$T/hostile.ova" file:app.ovf=@"$T/app.ovf" "$entry"
    run inspect "$T/hostile.ova"
    expect_rc 3 "inspect hostile $entry"
    expect_one_line_error "inspect hostile $entry"
    expect_err_contains "member '" "inspect hostile $entry names the member"
done
run inspect "$T/no-such.ova"
expect_rc 1 "inspect of a missing file"
run inspect
expect_rc 2 "inspect without INPUT"

finish
