# `ova2virt run` and the embedded driver, as a real appliance found them
# (issue 14), on the BIOS sample:
#  - as root with /dev/kvm open to the kvm group (0660 root:kvm, Debian's
#    state once udev is installed), QEMU runs as libvirt-qemu and must reach
#    the images under the run directory; simulated in a private mount
#    namespace (a 0660 root:kvm node for the same device bind-mounted over
#    /dev/kvm), so nothing outside this test sees it;
#  - warnings come before the console, and with the error on a failure;
#  - --json reports seconds to the first console byte and to power-off;
#  - import -c 'qemu:///embed?root=DIR' prepares DIR (qemu.conf) as run does.
# Exit 77 when not root or no mount namespace can be made.
# Environment: OVA2VIRT, SAMPLES.
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: the embedded driver needs root here"; exit 77; }
ova="$SAMPLES/ova2virt-sample-bios.ova"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ova2virt-runfix-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# --- /dev/kvm 0660 root:kvm ---------------------------------------------
if [ "${1:-}" != inner ]; then
    getent group kvm >/dev/null && id libvirt-qemu >/dev/null 2>&1 ||
        { echo "SKIP: no kvm group or libvirt-qemu user"; exit 77; }
    mknod "$tmp/kvm" c 10 232 && chgrp kvm "$tmp/kvm" && chmod 0660 "$tmp/kvm" ||
        { echo "SKIP: cannot make a device node"; exit 77; }
    unshare -m true 2>/dev/null || { echo "SKIP: no mount namespaces"; exit 77; }
    # The rest of this script runs in the namespace, where /dev/kvm is the
    # group-accessible node; the host's /dev/kvm is never touched. Not
    # exec'd: this shell's trap removes the node's directory afterwards (the
    # inner run makes and removes its own).
    unshare -m sh -c 'mount --bind "$1" /dev/kvm && exec sh "$2" inner' \
        sh "$tmp/kvm" "$0"
    exit $?
fi
[ "$(stat -c '%a %G' /dev/kvm)" = "660 kvm" ] || fail "the simulation: $(ls -l /dev/kvm)"

# A TMPDIR QEMU cannot pass through (mktemp made it 0700): a clear error
# before anything is imported.
TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --virt-type qemu --timeout 120 \
    "$ova" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "run under a 0700 TMPDIR: exit $rc: $(cat "$tmp/err")"
grep -q "cannot pass through this directory" "$tmp/err" ||
    fail "run under a 0700 TMPDIR: $(cat "$tmp/err")"
# From here on the test directory is like /var/tmp: others may pass.
chmod 0711 "$tmp"

# The guest boots with QEMU running as libvirt-qemu (before the fix:
# "cannot access storage file ... (as uid:64055, gid:64055)").
TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --virt-type qemu --timeout 120 \
    "$ova" >"$tmp/both" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "run with /dev/kvm 0660 root:kvm exited $rc: $(tail -5 "$tmp/both")"
grep -q OVA2VIRT-BOOT-OK "$tmp/both" || fail "no marker: $(tail -c 400 "$tmp/both")"
# Warnings (the sample's boot disk moves off LSI Logic) come before the
# first console byte.
w=$(grep -n "warning: policy.boot-disk-bus" "$tmp/both" | head -1 | cut -d: -f1)
m=$(grep -n "OVA2VIRT-BOOT-OK" "$tmp/both" | head -1 | cut -d: -f1)
[ -n "$w" ] && [ -n "$m" ] && [ "$w" -lt "$m" ] ||
    fail "warnings not before the console (warning line ${w:-none}, marker ${m:-none}): $(head -c 600 "$tmp/both")"

# --json: boot figures per guest.
TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --virt-type qemu --json --timeout 120 \
    "$ova" >"$tmp/report.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "run --json exited $rc: $(cat "$tmp/err")"
python3 - "$tmp/report.json" <<'PY' || fail "run --json boot figures: $(cat "$tmp/report.json")"
import json, sys
d = json.load(open(sys.argv[1]))
g = d["guests"]
assert len(g) == 1 and g[0]["name"] == d["domains"][0], g
first, off = g[0]["seconds_to_first_console_byte"], g[0]["seconds_to_power_off"]
assert 0 < first <= off <= d["seconds"] + 0.5, (first, off, d["seconds"])
print("boot figures: first console byte %.2f s, power-off %.2f s" % (first, off))
PY

# A failing import still shows the warnings it had, then the error: the
# package cut short in the disk, after the plan (and its warnings).
size=$(stat -c %s "$ova")
head -c $((size / 2)) "$ova" >"$tmp/cut.ova"
TMPDIR=$tmp timeout 300 "$OVA2VIRT" run --virt-type qemu --timeout 120 \
    "$tmp/cut.ova" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] || fail "a cut package did not fail the run"
grep -q "warning: policy.boot-disk-bus" "$tmp/err" ||
    fail "no warnings shown with the failure: $(cat "$tmp/err")"

# --- import -c 'qemu:///embed?root=DIR' ----------------------------------
mkdir -p "$tmp/images"
start=$(date +%s.%N)
"$OVA2VIRT" import -q -c "qemu:///embed?root=$tmp/embed" --storage-dir "$tmp/images" \
    --network '*=user' --virt-type qemu "$ova" 2>"$tmp/err"
rc=$?
mid=$(date +%s.%N)
[ $rc -eq 0 ] || fail "import into qemu:///embed exited $rc: $(cat "$tmp/err")"
[ -f "$tmp/embed/etc/qemu.conf" ] || fail "the embed root has no qemu.conf"
grep -q 'stdio_handler = "file"' "$tmp/embed/etc/qemu.conf" 2>/dev/null ||
    fail "the embed root's qemu.conf: $(cat "$tmp/embed/etc/qemu.conf" 2>&1)"
"$OVA2VIRT" import -q -c "qemu:///embed?root=$tmp/embed" --storage-dir "$tmp/images" \
    --network '*=user' --virt-type qemu --name again "$ova" 2>"$tmp/err"
rc=$?
end=$(date +%s.%N)
[ $rc -eq 0 ] || fail "a second import into the same root exited $rc: $(cat "$tmp/err")"
python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print('embed imports: first %.1f s, second %.1f s' % (b-a, c-b))" \
    "$start" "$mid" "$end"

echo "$failures failures"
[ "$failures" -eq 0 ]
