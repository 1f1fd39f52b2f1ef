# Shared by the tests that run against the private libvirtd that
# run_integration.sh starts (it exports OVA2VIRT_TEST_URI and
# OVA2VIRT_TEST_DIR). Sourced: `. "$(dirname "$0")/daemon_lib.sh"`.
: "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
uri=$OVA2VIRT_TEST_URI
work=$OVA2VIRT_TEST_DIR
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# virsh never reads the test's stdin (a background import may own it).
virsh_q() { virsh -q -c "$uri" "$@" </dev/null; }

# make_dir_pool NAME DIR: a started directory pool, or the test stops.
make_dir_pool() {
    virsh_q pool-define-as "$1" dir --target "$2" >/dev/null &&
        virsh_q pool-build "$1" >/dev/null && virsh_q pool-start "$1" >/dev/null ||
        { echo "cannot create pool $1" >&2; exit 1; }
}

# add_console_log DOMAIN XML LOG: redefines DOMAIN (inactive) with a <log>
# to LOG on its serial pty, from a copy of its XML at XML; the device itself
# stays as the import made it.
add_console_log() {
    virsh_q dumpxml --inactive "$1" >"$2"
    python3 - "$2" "$3" <<'PY'
import sys, xml.etree.ElementTree as ET
path, log = sys.argv[1], sys.argv[2]
tree = ET.parse(path)
serial = tree.getroot().find("devices/serial")
ET.SubElement(serial, "log", {"file": log, "append": "off"})
tree.write(path)
PY
    virsh_q define "$2" >/dev/null
}

# boot_and_check DOMAIN: starts it and waits (60 s at most) for the guest
# to power itself off, having printed the sample's marker. The console is
# read from a log the test adds (add_console_log, $work/DOM.boot.xml).
boot_and_check() {
    _dom=$1
    _log="$work/$_dom.console"
    add_console_log "$_dom" "$work/$_dom.boot.xml" "$_log" ||
        fail "$_dom: redefine with a console log"
    virsh_q start "$_dom" >/dev/null || { fail "$_dom: start"; return; }
    _i=0
    while [ "$(virsh_q domstate "$_dom")" != "shut off" ] && [ $_i -lt 600 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    [ "$(virsh_q domstate "$_dom")" = "shut off" ] ||
        { fail "$_dom: still running after 60 s"; virsh_q destroy "$_dom"; }
    if grep -q 'OVA2VIRT-BOOT-OK' "$_log" 2>/dev/null; then
        echo "ok: $_dom booted and printed the marker in $((_i / 10)) s"
    else
        fail "$_dom: no marker on the serial console: $(tail -c 400 "$_log" 2>&1)"
    fi
}

# flip_disk_tail SRC.ova OUT.ova: a copy of the package whose disks' last
# byte (end-of-stream padding) is flipped: it decodes fine and fails only
# its digest, found at the end of the package -- after the disk was written.
flip_disk_tail() {
    python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read()
        if m.name.endswith(".vmdk"):
            data = data[:-1] + bytes([data[-1] ^ 0x40])
        o.addfile(m, io.BytesIO(data))
PY
}
