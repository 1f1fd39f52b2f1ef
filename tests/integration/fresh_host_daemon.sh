# A fresh host (issue 13): a real libvirtd (run_integration.sh) with no
# storage pool and no network at all, as Debian's libvirt-daemon-system
# leaves it before virt-install or virt-manager ran.
#   - `import --dry-run` (no --pool) says `default` will be made, makes
#     nothing; `import --start` makes `default` at /var/lib/libvirt/images
#     (the daemon's private one), imports and boots the BIOS sample;
#   - a pool under a 0700 directory QEMU cannot search is refused at plan
#     time: no volume, no domain, not a byte in the pool;
#   - a NIC mapped to an inactive network: refused with --start at plan
#     time, imported fine without;
#   - --pool naming no pool stays an error.
# ova2virt runs inside the daemon's mount namespace (nsenter): it writes a
# local pool's volumes in place, and /var/lib/libvirt must be the daemon's
# private one, never this host's.
#
# Environment: OVA2VIRT (the binary), SAMPLES (built sample appliances).
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/daemon_lib.sh"
command -v nsenter >/dev/null 2>&1 || { echo "SKIP: no nsenter"; exit 77; }

# run_integration.sh keeps the daemon's pid file beside the test directory.
daemon_pid=$(cat "$(dirname "$work")/libvirtd.pid") || exit 1
# The daemon's /var/lib/libvirt, as this namespace sees it.
private_lib="$(dirname "$work")/lib"
ova="$SAMPLES/ova2virt-sample-bios.ova"

# o2v ARGS...: ova2virt in the daemon's namespace; leaves $rc, $out, $err.
o2v() {
    _cmd=$1
    shift
    nsenter -t "$daemon_pid" -m -- "$OVA2VIRT" "$_cmd" -c "$uri" "$@" \
        >"$work/.out" 2>"$work/.err" </dev/null
    rc=$?
    out=$(cat "$work/.out")
    err=$(cat "$work/.err")
}
expect() {  # expect RC WHAT
    [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1: $err"
}
contains() {  # contains HAYSTACK NEEDLE WHAT
    case "$1" in *"$2"*) ;; *) fail "$3: lacks '$2': $1" ;; esac
}
no_domain() {
    virsh_q dominfo "$1" >/dev/null 2>&1 && fail "$2: domain $1 exists"
}

[ -z "$(virsh_q pool-list --all --name | grep -v '^$')" ] ||
    fail "the fresh daemon already has pools: $(virsh_q pool-list --all --name)"

# --- --pool naming no pool: an error, nothing made -------------------------
o2v import --pool nosuch --network '*=user' --name named "$ova"
expect 1 "--pool nosuch"
contains "$err" "pool 'nosuch'" "--pool nosuch"
[ -z "$(virsh_q pool-list --all --name | grep -v '^$')" ] ||
    fail "--pool nosuch made a pool"

# --- dry run: the plan says so, nothing is made ----------------------------
o2v import --dry-run --network '*=user' --name fresh "$ova"
expect 0 "dry run on a fresh host"
contains "$out$err" "pool 'default': does not exist; to be created" "dry-run plan"
contains "$err" "will create it" "dry-run warning"
virsh_q pool-info default >/dev/null 2>&1 && fail "the dry run made the pool"
[ ! -e "$private_lib/images" ] || fail "the dry run made the directory"

# --- the headline: import --start, no --pool -------------------------------
start=$(date +%s)
o2v import --start --network '*=user' --name fresh "$ova"
expect 0 "import --start on a fresh host"
contains "$err" "created storage pool 'default'" "says it made the pool"
printf '%s\n' "$err" | grep 'storage pool' | sed 's/^/said: /'
[ "$(printf '%s\n' "$err" | grep -c 'storage pool')" = 1 ] ||
    fail "the pool is announced in more than one line: $err"
info=$(virsh_q pool-info default)
for want in 'State: *running' 'Persistent: *yes' 'Autostart: *yes'; do
    printf '%s\n' "$info" | grep -q "$want" || fail "pool default: no '$want': $info"
done
[ "$(virsh_q pool-dumpxml default | sed -n 's:.*<path>\(.*\)</path>.*:\1:p')" = \
    /var/lib/libvirt/images ] || fail "default's target: $(virsh_q pool-dumpxml default)"
vol=$(virsh_q vol-path --pool default fresh-disk1.qcow2)
[ "$vol" = /var/lib/libvirt/images/fresh-disk1.qcow2 ] || fail "volume path $vol"
# The daemon's private directory holds it; this host's does not.
[ -s "$private_lib/images/fresh-disk1.qcow2" ] ||
    fail "the volume is not in the daemon's private /var/lib/libvirt"
[ ! -e /var/lib/libvirt/images/fresh-disk1.qcow2 ] ||
    fail "the import wrote into this host's /var/lib/libvirt"
i=0
while [ "$(virsh_q domstate fresh)" != "shut off" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ "$(virsh_q domstate fresh)" = "shut off" ] ||
    fail "--start: the guest did not run to its power-off"
echo "ok: fresh host import --start + boot in $(($(date +%s) - start)) s"
# (QEMU holds the image locked while it runs.)
qemu-img compare -q "$SAMPLES/ova2virt-sample-bios.raw" \
    "$private_lib/images/fresh-disk1.qcow2" || fail "the volume differs"
# And once more with the console logged: the marker proves the boot.
boot_and_check fresh

# A second import uses the pool made by the first, and says nothing of it.
o2v import --network '*=user' --name again "$ova"
expect 0 "second import into the made pool"
case "$err" in *"created storage pool"*) fail "made the pool twice: $err" ;; esac
virsh_q undefine again >/dev/null
virsh_q vol-delete --pool default again-disk1.qcow2 >/dev/null

# --- a pool QEMU cannot reach: refused before a byte is copied -------------
# run_integration.sh keeps QEMU as libvirt-qemu for this test
# (OVA2VIRT_TEST_QEMU_USER=keep); where it could not, QEMU runs as root,
# which reaches every directory, and there is nothing to refuse.
if virsh_q capabilities | grep -q "<baselabel type=.qemu.>+0:"; then
    echo "SKIP: the 0700 pool: QEMU runs as root on this daemon"
else
    locked="$work/locked"
    mkdir -p "$locked/pool"
    chmod 0700 "$locked"
    chown nobody "$locked"  # libvirt-qemu may not enter it
    make_dir_pool locked "$locked/pool"
    o2v import --pool locked --network '*=user' --name locked-vm "$ova"
    expect 1 "a pool under a 0700 directory"
    echo "refused: $err"
    contains "$err" "cannot search directory '$locked'" "names the directory"
    contains "$err" "QEMU runs as '" "names the user"
    [ -z "$(virsh_q vol-list locked | grep -v '^$')" ] ||
        fail "volumes left in the locked pool: $(virsh_q vol-list locked)"
    [ -z "$(ls -A "$locked/pool")" ] || fail "files in the locked pool: $(ls -A "$locked/pool")"
    no_domain locked-vm "locked pool"
    # The refusal is no false alarm: a domain on a volume there cannot start
    # (whether QEMU runs as libvirt-qemu or as a root without capabilities).
    virsh_q vol-create-as locked probe.raw 1M --format raw >/dev/null ||
        fail "vol-create-as in the locked pool"
    cat >"$work/probe.xml" <<XML
<domain type='qemu'>
  <name>probe</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$locked/pool/probe.raw'/>
      <target dev='hda' bus='ide'/>
    </disk>
  </devices>
</domain>
XML
    virsh_q define "$work/probe.xml" >/dev/null || fail "define probe"
    if virsh_q start probe >/dev/null 2>"$work/probe.err"; then
        fail "a domain on the locked pool started: the check refused wrongly"
        virsh_q destroy probe >/dev/null
    else
        probe_err=$(tr '\n' ' ' <"$work/probe.err")
        case "$probe_err" in
            *"Permission denied"* | *"access"*) echo "ok: libvirt agrees: $probe_err" ;;
            *) fail "the probe failed otherwise: $probe_err" ;;
        esac
    fi
    virsh_q undefine probe >/dev/null
    virsh_q vol-delete --pool locked probe.raw >/dev/null
    # The same pool made reachable imports.
    chmod 0711 "$locked"
    o2v import --pool locked --network '*=user' --name locked-vm "$ova"
    expect 0 "the pool once reachable"
    virsh_q undefine locked-vm >/dev/null
    virsh_q vol-delete --pool locked locked-vm-disk1.qcow2 >/dev/null
fi

# --- a NIC mapped to an inactive network -----------------------------------
cat >"$work/net.xml" <<'XML'
<network>
  <name>o2v-idle</name>
  <bridge name='o2vidle0'/>
</network>
XML
virsh_q net-define "$work/net.xml" >/dev/null || fail "net-define"
o2v import --start --network '*=o2v-idle' --name netvm "$ova"
expect 1 "--start with an inactive network"
echo "refused: $err"
contains "$err" "'o2v-idle' is not active" "says the network is down"
contains "$err" "virsh net-start o2v-idle" "names the first fix"
contains "$err" "=user'" "names the second fix"
[ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || fail "not one line: $err"
no_domain netvm "inactive network, --start"
virsh_q vol-info --pool default netvm-disk1.qcow2 >/dev/null 2>&1 &&
    fail "inactive network, --start: a volume was made"
# Without --start the define does not need the network up.
o2v import --network '*=o2v-idle' --name netvm "$ova"
expect 0 "an inactive network without --start"
contains "$err" "import.network-inactive" "warns that the network is down"
virsh_q dumpxml --inactive netvm | grep -q "network='o2v-idle'" ||
    fail "netvm's NIC is not on o2v-idle"
[ "$(virsh_q domstate netvm)" = "shut off" ] || fail "netvm is running"

# --- batch items that name no pool, two at once, on a fresh host again ----
for d in fresh netvm; do
    virsh_q undefine "$d" >/dev/null
    virsh_q vol-delete --pool default "$d-disk1.qcow2" >/dev/null
done
virsh_q pool-destroy default >/dev/null && virsh_q pool-undefine default >/dev/null ||
    fail "cannot remove the default pool"
cat >"$work/plan.json" <<EOF
{
  "version": 1,
  "defaults": {"connect": "$uri", "networks": {"*": "user"}},
  "items": [
    {"input": "$ova", "name": "batch-1"},
    {"input": "$ova", "name": "batch-2"}
  ]
}
EOF
o2v batch --jobs 2 --state "$work/plan.state" "$work/plan.json"
expect 0 "a batch with no pool on a fresh host"
for d in batch-1 batch-2; do
    virsh_q vol-info --pool default "$d-disk1.qcow2" >/dev/null 2>&1 ||
        fail "batch: no volume for $d in default"
    [ "$(virsh_q domstate "$d")" = "shut off" ] || fail "batch: no domain $d"
done
virsh_q pool-info default | grep -q 'Autostart: *yes' || fail "batch: default pool"

echo "$failures failures"
[ "$failures" -eq 0 ]
