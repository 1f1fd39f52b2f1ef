# ova2virt verify: the corpus, packages built at test time (every manifest
# style, manifest first and last, flipped bytes, hostile members, signatures),
# and stdin giving the same answers as the file.
. "$SRC/tests/cli/lib.sh"

MKTAR="$BUILD/tests/support/make-test-tar"
[ -x "$MKTAR" ] || { echo "FAIL: $MKTAR not built"; exit 1; }

# same_from_stdin FILE DESCRIPTION: `cat FILE | verify -` exits as
# `verify FILE` did and says the same, the input named "stdin".
same_from_stdin() {
    file_rc=$rc
    file_err=$(printf '%s' "$err" | sed "s|$1|stdin|g")
    file_out=$(printf '%s' "$out" | sed "s|^$1:|stdin:|")
    # A real pipe, as `cat X.ova | ova2virt verify -`.
    cat "$1" | "$OVA2VIRT" verify - >"$T/.out" 2>"$T/.err"
    rc=$?
    out=$(cat "$T/.out")
    err=$(cat "$T/.err")
    checks=$((checks + 1))
    [ "$rc" -eq "$file_rc" ] || fail "$2: stdin exit $rc, file exit $file_rc"
    checks=$((checks + 1))
    [ "$err" = "$file_err" ] ||
        fail "$2: stdin says '$err', the file said '$file_err'"
    checks=$((checks + 1))
    [ "$out" = "$file_out" ] || fail "$2: stdin report differs from the file's"
}

# expect_verify FILE RC [TEXT]: verify exits RC (file and stdin); on failure
# stderr is one line containing TEXT.
expect_verify() {
    run verify "$1"
    expect_rc "$2" "verify $1"
    if [ "$2" -ne 0 ]; then
        expect_one_line_error "verify $1"
        [ -z "${3:-}" ] || expect_err_contains "$3" "verify $1"
    fi
    same_from_stdin "$1" "verify $1"
}

# --- the corpus ----------------------------------------------------------
for f in "$CORPUS"/ova/*.ova; do
    case "$(basename "$f")" in
        ganeti_no_ovf.ova | glance_testserver-no-ovf.ova)
            expect_verify "$f" 3 "no ovf descriptor" ;;
        glance_testserver-not-tar.ova)
            expect_verify "$f" 3 "not a tar archive" ;;
        glance_testserver-bad-ovf.ova)
            expect_verify "$f" 3 "member 'illegal-xml.ovf': line" ;;
        glance_testserver-no-disk.ova)
            expect_verify "$f" 3 \
                "member 'testserver-disk1.vmdk' is referenced by the descriptor but missing" ;;
        *)
            expect_verify "$f" 0 ;;
    esac
done
for v in t4 t4-ovftool-4.1.0; do
    run verify "$CORPUS/ova/vboxvk_tdAppliance1-$v.ova"
    expect_out_contains "signer:  CN=beispiel.example.org" "signed corpus $v names its signer"
    expect_out_contains "signature: valid, SHA1" "signed corpus $v"
    expect_err_contains "signature.self-signed" "signed corpus $v is self-signed"
done
run verify "$CORPUS/ova/vboxvk_tdAppliance1-t4.ova"
expect_err_contains "the signature does not cover it" "t4 leaves its descriptor unsigned"

# --- packages built here -------------------------------------------------
cat >"$T/app.ovf" <<'EOF'
<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:href="disk1.vmdk" ovf:id="file1"/>
    <File ovf:href="disk2.vmdk" ovf:id="file2"/>
  </References>
</Envelope>
EOF
head -c 300000 /dev/urandom >"$T/disk1.vmdk"
head -c 5000 /dev/urandom >"$T/disk2.vmdk"

# manifest ALGO STYLE: the manifest for app.ovf and the disks.
manifest() {
    for f in app.ovf disk1.vmdk disk2.vmdk; do
        sum=$(cd "$T" && "${1}sum" "$f" | cut -d' ' -f1)
        upper=$(echo "$1" | tr a-z A-Z)
        case "$2" in
            ovftool) printf '%s(%s)= %s\n' "$upper" "$f" "$sum" ;;
            spaced) printf '%s (%s) = %s\r\n' "$upper" "$f" "$sum" ;;
            padded) printf '%s(%s)= %s\n' "$upper" "$f" "$sum" ;;
        esac
    done
    [ "$2" = padded ] && printf '%68s' ''
    return 0
}

for algo in sha1 sha256 sha512; do
    for style in ovftool spaced padded; do
        manifest $algo $style >"$T/app.mf"
        "$MKTAR" "$T/first.ova" file:app.ovf=@"$T/app.ovf" file:app.mf=@"$T/app.mf" \
            file:disk1.vmdk=@"$T/disk1.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk"
        expect_verify "$T/first.ova" 0
        "$MKTAR" "$T/last.ova" file:app.ovf=@"$T/app.ovf" \
            file:disk1.vmdk=@"$T/disk1.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk" \
            file:app.mf=@"$T/app.mf"
        expect_verify "$T/last.ova" 0
        expect_out_contains "OK          $(echo $algo | tr a-z A-Z)" "$algo $style manifest last"
    done
done

# A flipped byte in a disk, the manifest first and last.
manifest sha256 ovftool >"$T/app.mf"
cp "$T/disk1.vmdk" "$T/flipped.vmdk"
# XOR, not a fixed value: the disk is random, so the byte there may already
# be that value (once in 256 runs the "flipped" disk was the original).
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(150000); b = f.read(1)[0]; f.seek(150000); f.write(bytes([b ^ 0x20]))' "$T/flipped.vmdk"
cmp -s "$T/disk1.vmdk" "$T/flipped.vmdk" && fail "the flipped disk is the original"
"$MKTAR" "$T/flip.ova" file:app.ovf=@"$T/app.ovf" file:app.mf=@"$T/app.mf" \
    file:disk1.vmdk=@"$T/flipped.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk"
expect_verify "$T/flip.ova" 3 "ova2virt: $T/flip.ova: member 'disk1.vmdk': SHA256 digest mismatch"
expect_out_contains "MISMATCH    SHA256  disk1.vmdk (expected" "flip is listed as a mismatch"
"$MKTAR" "$T/flip-last.ova" file:app.ovf=@"$T/app.ovf" \
    file:disk1.vmdk=@"$T/flipped.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk" file:app.mf=@"$T/app.mf"
expect_verify "$T/flip-last.ova" 3 "member 'disk1.vmdk': SHA256 digest mismatch"

# --json: one document, the failure inside it.
run verify --json "$T/flip.ova"
expect_rc 3 "verify --json of a flipped disk"
checks=$((checks + 1))
[ "$(json_get "d['ok']")" = False ] || fail "--json ok is not false"
checks=$((checks + 1))
[ "$(json_get "[f['status'] for f in d['files'] if f['name']=='disk1.vmdk'][0]")" = mismatch ] ||
    fail "--json does not mark disk1.vmdk as a mismatch"
checks=$((checks + 1))
[ "$(json_get "d['error']['message']")" = "$T/flip.ova: member 'disk1.vmdk': SHA256 digest mismatch" ] ||
    fail "--json error message"
checks=$((checks + 1))
[ -z "$err" ] || fail "--json wrote to stderr: $err"
run verify --json "$T/first.ova"
expect_rc 0 "verify --json of a good package"
checks=$((checks + 1))
[ "$(json_get "(d['kind'], d['manifest']['algorithm'], d['ok'], len(d['files']))")" = "('ova', 'SHA512', True, 3)" ] ||
    fail "--json of a good package: $(json_get d)"

# gzip-wrapped.
gzip -n -c "$T/first.ova" >"$T/first.ova.gz"
expect_verify "$T/first.ova.gz" 0
expect_out_contains "ova+gzip" "gzip-wrapped tar is recognized"

# No manifest: exit 0, and say so.
"$MKTAR" "$T/nomf.ova" file:app.ovf=@"$T/app.ovf" \
    file:disk1.vmdk=@"$T/disk1.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk"
expect_verify "$T/nomf.ova" 0
expect_err_contains "manifest.none" "no manifest is a warning"

# A missing disk.
"$MKTAR" "$T/missing.ova" file:app.ovf=@"$T/app.ovf" file:app.mf=@"$T/app.mf" \
    file:disk1.vmdk=@"$T/disk1.vmdk"
expect_verify "$T/missing.ova" 3 "member 'disk2.vmdk' is listed in the manifest but missing"

# --- hostile members -----------------------------------------------------
good="file:app.ovf=@$T/app.ovf file:disk1.vmdk=@$T/disk1.vmdk file:disk2.vmdk=@$T/disk2.vmdk"
hostile() { # NAME-IN-MESSAGE ENTRY [FORMAT]
    # shellcheck disable=SC2086
    "$MKTAR" --format "${3:-ustar}" "$T/hostile.ova" $good "$2"
    expect_verify "$T/hostile.ova" 3 "$1"
}
hostile "member '/etc/passwd': absolute path" "text:/etc/passwd=x"
hostile "member '../evil.vmdk': '..' component" "text:../evil.vmdk=x"
hostile "member 'a/../../evil': '..' component" "text:a/../../evil=x"
hostile "member 'link.vmdk': symbolic link to '/etc/shadow'" "symlink:link.vmdk=/etc/shadow"
hostile "member 'hard.vmdk': hard link to 'disk1.vmdk'" "hardlink:hard.vmdk=disk1.vmdk"
hostile "member 'dev': character device" "chardev:dev"
hostile "member 'blk': block device" "blockdev:blk"
hostile "member 'pipe': fifo" "fifo:pipe"
hostile "member 'disk1.vmdk': duplicate name" "text:disk1.vmdk=again"
hostile "member './disk2.vmdk': duplicate name" "text:./disk2.vmdk=again"
hostile "member 'evil\\x0aname': name contains control characters" "text:$(printf 'evil\nname')=x"
hostile "member 'esc\\x1b[2J': name contains control characters" "text:$(printf 'esc\033[2J')=x"
hostile "member 'huge.vmdk' at byte" "huge:huge.vmdk=1099511627776" gnu
hostile "member 'huge.vmdk' at byte" "huge:huge.vmdk=1099511627776" pax
hostile "damaged tar header" "badsum:bad.vmdk=x"
long=$(printf 'd%.0s' $(seq 1 150))
hostile "member '$long/../../etc/x': '..' component" "text:$long/../../etc/x=y" pax
hostile "member '$long/../../etc/x': '..' component" "text:$long/../../etc/x=y" gnu

# A truncated archive, in a disk and in a header.
size=$(wc -c <"$T/first.ova")
head -c 200000 "$T/first.ova" >"$T/trunc.ova"
run verify "$T/trunc.ova"
expect_rc 3 "truncated in a disk"
expect_one_line_error "truncated in a disk"
expect_err_contains "member 'disk1.vmdk' at byte" "truncated in a disk names it"
cat "$T/trunc.ova" | "$OVA2VIRT" verify - >/dev/null 2>"$T/.err"
rc=$?
err=$(cat "$T/.err")
expect_rc 3 "truncated from stdin"
expect_err_contains "member 'disk1.vmdk' at byte" "truncated from stdin names the member"
expect_err_contains "truncated" "truncated from stdin says so"

# hrefs leaving the package.
for href in ../../etc/passwd /etc/passwd file:///etc/passwd http://evil.example/x.vmdk; do
    sed "s|disk2.vmdk\" ovf:id|$href\" ovf:id|" "$T/app.ovf" >"$T/evil.ovf"
    "$MKTAR" "$T/href.ova" file:app.ovf=@"$T/evil.ovf" file:disk1.vmdk=@"$T/disk1.vmdk"
    expect_verify "$T/href.ova" 3 "href '$href' leaves the package"
done

# --- signatures ------------------------------------------------------------
(cd "$T" && openssl req -x509 -newkey rsa:2048 -nodes -keyout signer.key \
    -out signer.pem -days 3650 -subj "/CN=ova2virt cli test" 2>/dev/null) ||
    fail "openssl could not make a key"
sign() { # MANIFEST CERT-OUT
    sig=$(openssl dgst -sha256 -sign "$T/signer.key" -hex "$1" | sed 's/.*= //')
    { printf 'SHA256(app.mf)= %s\n' "$sig"; cat "$T/signer.pem"; } >"$2"
}
sign "$T/app.mf" "$T/app.cert"
"$MKTAR" "$T/signed.ova" file:app.ovf=@"$T/app.ovf" file:app.mf=@"$T/app.mf" \
    file:app.cert=@"$T/app.cert" file:disk1.vmdk=@"$T/disk1.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk"
expect_verify "$T/signed.ova" 0
expect_out_contains "signer:  CN=ova2virt cli test" "signed package names its signer"
run verify --ca "$T/signer.pem" "$T/signed.ova"
expect_rc 0 "--ca with the signer's own certificate"
expect_out_contains "chain verified" "--ca reports the chain"
run verify --ca "$T/signer.pem" "$T/first.ova"
expect_rc 3 "--ca on an unsigned package"
expect_err_contains "the package is not signed" "--ca on an unsigned package"
# The manifest edited after signing (a comment-like blank line).
{ cat "$T/app.mf"; echo; } >"$T/edited.mf"
"$MKTAR" "$T/tampered.ova" file:app.ovf=@"$T/app.ovf" file:app.mf=@"$T/edited.mf" \
    file:app.cert=@"$T/app.cert" file:disk1.vmdk=@"$T/disk1.vmdk" file:disk2.vmdk=@"$T/disk2.vmdk"
expect_verify "$T/tampered.ova" 3 "member 'app.cert': signature does not match"

# --- usage -----------------------------------------------------------------
run verify
expect_rc 2 "verify without INPUT"
run verify "$T/no-such.ova"
expect_rc 1 "verify of a missing file"
expect_one_line_error "verify of a missing file"

finish
