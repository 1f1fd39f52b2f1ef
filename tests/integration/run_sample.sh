# ova2virt run on the sample appliances: the embedded QEMU driver, no
# daemon; the guest prints its marker on the console (our stdout), powers
# off, and nothing is left behind (issue 6). Exit 77 when not root.
#   run_sample.sh bios|uefi
# Environment: OVA2VIRT, SAMPLES.
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}"
sample=${1:?bios or uefi}
[ "$(id -u)" = 0 ] || { echo "SKIP: the embedded driver needs root here"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ova2virt-run-test-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# (a long TMPDIR makes run put the driver in a short /tmp/o2v-* directory;
# that must go too)
short_before=$(ls -d /tmp/o2v-* 2>/dev/null | wc -l)
TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --timeout 120 \
    "$SAMPLES/ova2virt-sample-$sample.ova" >"$tmp/console" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "run exited $rc: $(cat "$tmp/err")"
grep -q OVA2VIRT-BOOT-OK "$tmp/console" || fail "no marker on stdout: $(tail -c 300 "$tmp/console")"
grep -q "powered off" "$tmp/err" || fail "no power-off report: $(cat "$tmp/err")"
left=$(find "$tmp" -mindepth 1 -maxdepth 1 ! -name console ! -name err)
[ -z "$left" ] || fail "left behind: $left"
[ "$(ls -d /tmp/o2v-* 2>/dev/null | wc -l)" = "$short_before" ] ||
    fail "a /tmp/o2v-* driver directory was left behind"

# --json: the console is in the report, stdout holds only the document.
TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --json --timeout 120 \
    "$SAMPLES/ova2virt-sample-$sample.ova" >"$tmp/report.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "run --json exited $rc: $(cat "$tmp/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "OVA2VIRT-BOOT-OK" in d["console"] and d["powered_off"]' \
    "$tmp/report.json" ||
    fail "run --json report: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("powered_off"), d.get("guests"), len(d.get("console", "")), repr(d.get("console", "")[-600:]))' "$tmp/report.json" 2>&1); stderr: $(tail -c 600 "$tmp/err")"

# --console: the console both ways; the guest starts paused until it is
# attached, so even a fast guest's first bytes arrive.
echo | TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --console --timeout 120 \
    "$SAMPLES/ova2virt-sample-$sample.ova" >"$tmp/console2" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "run --console exited $rc: $(cat "$tmp/err")"
grep -q OVA2VIRT-BOOT-OK "$tmp/console2" || fail "--console lost the marker"
# Ctrl-] detaches: the guest is stopped and the run fails (exit 1).
(sleep 1; printf '\035'; sleep 30) | TMPDIR=$tmp timeout 300 "$OVA2VIRT" run \
    --console --timeout 120 "$SAMPLES/ova2virt-sample-uefi.ova" \
    >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "detach: exit $rc: $(cat "$tmp/err")"
grep -q "detached" "$tmp/err" || fail "detach message: $(cat "$tmp/err")"

# A guest that never powers off is stopped at the timeout, with exit 1.
TMPDIR=$tmp "$OVA2VIRT" run --timeout 1 --keep "$tmp/kept" \
    "$SAMPLES/ova2virt-sample-uefi.ova" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "timeout: exit $rc: $(cat "$tmp/err")"
grep -q "did not power off within 1 seconds" "$tmp/err" || fail "timeout message: $(cat "$tmp/err")"
[ -d "$tmp/kept/images" ] || fail "--keep did not keep its directory"

echo "$failures failures"
[ "$failures" -eq 0 ]
