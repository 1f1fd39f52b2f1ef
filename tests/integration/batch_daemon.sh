# `ova2virt batch` against a real libvirtd (started by run_integration.sh,
# which exports OVA2VIRT_TEST_URI and OVA2VIRT_TEST_DIR), issue 7: a plan of
# several imports of the sample appliances under different names, with a
# broken package among them, run with --jobs 2. The good ones land
# (domains defined, volumes identical to the original disks by qemu-img
# compare), the broken one is reported and leaves nothing; a re-run does
# only the failed item and leaves the others' volumes untouched (same inode
# and mtime); with the broken item pointed at a good package, everything is
# done; a domain removed by hand is imported again.
#
# Environment: OVA2VIRT (the binary), SAMPLES (built sample appliances).
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/daemon_lib.sh"

make_dir_pool batch "$work/pool"

# The packages, copied so the test may touch them; the bios one also
# unpacked (an OVF directory), and broken: the last byte of its disk
# flipped, which decodes fine and fails only its digest, found at the end
# of the package -- after the disk was written.
mkdir -p "$work/ova"
cp "$SAMPLES/ova2virt-sample-bios.ova" "$SAMPLES/ova2virt-sample-uefi.ova" \
    "$work/ova/"
cp -r "$SAMPLES/ova2virt-sample-bios" "$work/ova/bios-dir"
flip_disk_tail "$work/ova/ova2virt-sample-bios.ova" "$work/ova/broken.ova"

# plan BROKEN_INPUT: the plan, with the fifth item's package given.
plan() {
    cat >"$work/plan.json" <<EOF
{
  "version": 1,
  "defaults": {"connect": "$uri", "pool": "batch", "networks": {"*": "user"},
               "virt_type": "qemu"},
  "items": [
    {"input": "ova/ova2virt-sample-bios.ova", "name": "b-bios1"},
    {"input": "ova/ova2virt-sample-uefi.ova", "name": "b-uefi"},
    {"input": "ova/ova2virt-sample-bios.ova", "name": "b-bios2"},
    {"input": "ova/bios-dir", "name": "b-dir"},
    {"input": "$1", "name": "b-broken", "id": "broken"}
  ]
}
EOF
}
good="b-bios1 b-uefi b-bios2 b-dir"
raw_of() {
    case $1 in b-uefi) echo "$SAMPLES/ova2virt-sample-uefi.raw" ;;
    *) echo "$SAMPLES/ova2virt-sample-bios.raw" ;; esac
}
# batch ARGS...: runs the batch with --json, leaving $rc, $work/out.json
# and $work/err.
batch() {
    "$OVA2VIRT" batch --json "$@" "$work/plan.json" >"$work/out.json" 2>"$work/err"
    rc=$?
}
# item ID EXPR: EXPR on that item of the last report.
item() {
    python3 -c "import json,sys; d=json.load(open('$work/out.json'))
i=[i for i in d['items'] if i['id']=='$1'][0]; print($2)"
}
summary() {
    python3 -c "import json; s=json.load(open('$work/out.json'))['summary']
print(' '.join(f'{k}={s[k]}' for k in ('done','skipped','failed','not_started')))"
}
stamps() {  # inode, mtime (ns) and size of every volume in the pool
    for f in "$work"/pool/*; do stat -c '%n %i %.9Y %s' "$f"; done
}
nothing_of_broken() {
    virsh_q dominfo b-broken >/dev/null 2>&1 && fail "$1: domain b-broken exists"
    virsh_q vol-list batch | grep -q b-broken && fail "$1: a b-broken volume exists"
    find "$work/pool" -name '*ova2virt-tmp*' | grep -q . &&
        fail "$1: temporary files left: $(ls -a "$work/pool")"
}

# --- first run --------------------------------------------------------
plan ova/broken.ova
start=$(date +%s.%N)
batch --jobs 2
echo "first run: $(summary) in $(echo "$(date +%s.%N) - $start" | bc) s"
[ $rc -eq 1 ] || fail "first run: exit $rc, expected 1: $(cat "$work/err")"
[ "$(summary)" = "done=4 skipped=0 failed=1 not_started=0" ] ||
    fail "first run: $(summary)"
for dom in $good; do
    [ "$(item "$dom" "i['status']")" = "done" ] || fail "$dom: $(item "$dom" "i")"
    virsh_q dominfo "$dom" >/dev/null || fail "$dom: no domain"
    virsh_q dumpxml "$dom" | grep -q "name=\"batch-item\">$dom<" ||
        fail "$dom: no batch metadata"
    path=$(virsh_q vol-path --pool batch "$dom-disk1.qcow2") ||
        { fail "$dom: no volume"; continue; }
    qemu-img compare -q "$(raw_of "$dom")" "$path" ||
        fail "$dom: the volume differs from the original disk"
done
[ "$(item broken "i['status']")" = failed ] || fail "broken: $(item broken "i")"
[ "$(item broken "i['error']['exit_code']")" = 3 ] || fail "broken: exit code"
item broken "i['error']['message']" | grep -q "digest mismatch" ||
    fail "broken: $(item broken "i['error']")"
nothing_of_broken "first run"
# One start and one finish line per item; never two bars at once.
for n in 1 2 3 4 5; do
    [ "$(grep -c "^\[$n/5\] " "$work/err")" -eq 2 ] ||
        fail "item $n: not two lines: $(cat "$work/err")"
done
stamps >"$work/stamps.1"

# --- re-run: only the failed item runs ---------------------------------
touch "$work/ova/ova2virt-sample-bios.ova"  # a manifest pins it: still done
batch --jobs 2
[ $rc -eq 1 ] || fail "re-run: exit $rc"
[ "$(summary)" = "done=0 skipped=4 failed=1 not_started=0" ] ||
    fail "re-run: $(summary)"
for dom in $good; do
    [ "$(item "$dom" "i['status']")" = skipped ] || fail "re-run: $dom: $(item "$dom" "i")"
    [ "$(item "$dom" "i['reason']")" = "done before" ] || fail "re-run: $dom reason"
done
[ "$(item broken "i['reason']")" = "failed before" ] || fail "re-run: broken not retried"
item broken "i['error']['message']" | grep -q "digest mismatch" ||
    fail "re-run: broken: $(item broken "i['error']")"
grep -q "'b-bios1': skipped (done before)" "$work/err" || fail "skip line: $(cat "$work/err")"
nothing_of_broken "re-run"
stamps >"$work/stamps.2"
cmp -s "$work/stamps.1" "$work/stamps.2" ||
    fail "re-run touched volumes: $(diff "$work/stamps.1" "$work/stamps.2")"

# A dry run says the same, and changes nothing.
batch --dry-run
[ "$(item b-uefi "i['status']")" = would-skip ] || fail "dry run: $(item b-uefi "i")"
[ "$(item broken "i['status']")" = would-run ] || fail "dry run: broken"

# --- the broken item fixed: everything done ----------------------------
plan ova/ova2virt-sample-bios.ova
batch --jobs 2
[ $rc -eq 0 ] || fail "fixed: exit $rc: $(cat "$work/err")"
[ "$(summary)" = "done=1 skipped=4 failed=0 not_started=0" ] || fail "fixed: $(summary)"
[ "$(item broken "i['reason']")" = "failed before" ] || fail "fixed: reason"
if path=$(virsh_q vol-path --pool batch b-broken-disk1.qcow2); then
    qemu-img compare -q "$SAMPLES/ova2virt-sample-bios.raw" "$path" ||
        fail "fixed: b-broken's volume differs from the original disk"
else
    fail "fixed: no b-broken volume"
fi
stamps | grep -v b-broken >"$work/stamps.3"
cmp -s "$work/stamps.1" "$work/stamps.3" || fail "fixed: others' volumes touched"
batch --jobs 2
if [ $rc -ne 0 ] || [ "$(summary)" != "done=0 skipped=5 failed=0 not_started=0" ]; then
    fail "all done: exit $rc, $(summary)"
fi

# --- what the host lost is imported again ------------------------------
virsh_q undefine b-bios2 >/dev/null
virsh_q vol-delete --pool batch b-bios2-disk1.qcow2 >/dev/null
batch
[ $rc -eq 0 ] || fail "target changed: exit $rc: $(cat "$work/err")"
[ "$(item b-bios2 "i['status']") $(item b-bios2 "i['reason']")" = "done target changed" ] ||
    fail "target changed: $(item b-bios2 "i")"
[ "$(summary)" = "done=1 skipped=4 failed=0 not_started=0" ] || fail "target changed: $(summary)"

# A domain of that name that is not this item's work is not "done": the
# import refuses to replace it.
virsh_q dumpxml b-dir >"$work/b-dir.xml"
sed -i 's/name="batch-source">[0-9a-f]*</name="batch-source">0</' "$work/b-dir.xml"
virsh_q define "$work/b-dir.xml" >/dev/null
batch
[ "$(item b-dir "i['status']") $(item b-dir "i['reason']")" = "failed target changed" ] ||
    fail "foreign domain: $(item b-dir "i")"
item b-dir "i['error']['message']" | grep -q "already exists" ||
    fail "foreign domain: $(item b-dir "i['error']")"

echo "$failures failures"
[ "$failures" -eq 0 ]
