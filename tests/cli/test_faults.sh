# I/O fault injection over a whole run (OVA2VIRT_FAULT): a convert and an
# import into test:///default --storage-dir are first run with the counters
# armed to learn how many reads, writes, fsyncs and opens they make; then
# each of those operations fails in turn. After every injected failure: an
# exit status of 1 to 4 (never a signal), one error line, no output file,
# no temporary file, no journal. A run the fault did not fail must have
# said why in a warning naming the error (only the journal, or a scan past
# the end of the archive, may be given up), and
# its output must be right (qemu-img compare). Real libvirt failures are in
# tests/integration/faults_daemon.sh.
. "$SRC/tests/cli/lib.sh"

cd "$T" || exit 1
export OVA2VIRT_STATE_DIR="$T/state"
mkdir -p store

# A small appliance from the independent producers in tests/tools.
python3 - "$SRC/tests/tools" <<'EOF'
import os, random, sys
sys.path.insert(0, sys.argv[1])
import ova_pack, ovf_write, vmdk_stream
random.seed(3)
size = 3 * 1024 * 1024 + 512 * 7
d = bytearray(size)
for at in range(0, size, 300 * 1024):
    n = min(100 * 1024, size - at)
    d[at:at + n] = random.randbytes(n)
open("disk.raw", "wb").write(d)
vmdk_stream.write_stream_optimized("disk.raw", "app-disk1.vmdk", cid=7,
                                   long_content_id="cd" * 16)
vs = ovf_write.VirtualSystem(name="faults", disks=[ovf_write.Disk(
    "app-disk1.vmdk", os.path.getsize("app-disk1.vmdk"), size)])
open("app.ovf", "w").write(ovf_write.format_ovf(vs))
open("app.mf", "w").write(ova_pack.format_manifest(
    [("app.ovf", "app.ovf"), ("app-disk1.vmdk", "app-disk1.vmdk")]))
ova_pack.pack_ova("app.ova", [("app.ovf", "app.ovf"), ("app.mf", "app.mf"),
                              ("app-disk1.vmdk", "app-disk1.vmdk")])
EOF

# clean WHAT: nothing of a failed run is left.
clean() {
    checks=$((checks + 1))
    left=$(find store . -maxdepth 1 \( -name 'out.*' -o -name '*ova2virt-tmp*' \
        -o -name '*.qcow2' \) 2>/dev/null | head -n 3)
    [ -z "$left" ] || fail "$1: left behind: $left"
    journals=$(find state -name '*.journal*' 2>/dev/null | head -n 3)
    [ -z "$journals" ] || fail "$1: journal left: $journals"
}

# inject LABEL OUTPUT CMD...: counts the operations CMD makes, then fails
# each of them in turn.
runs=0
inject() {
    label=$1 output=$2
    shift 2
    if ! OVA2VIRT_FAULT=count OVA2VIRT_FAULT_COUNTS="$T/counts" "$@" \
        >/dev/null 2>"$T/.err" </dev/null; then
        fail "$label: the counting run failed: $(cat "$T/.err")"
        return
    fi
    same "$output" "$label: the counting run"
    rm -f "$output"
    while read -r op total; do
        case $op in
            write) err=ENOSPC ;;
            *) err=EIO ;;
        esac
        n=1
        while [ "$n" -le "$total" ]; do
            what="$label: $op $n of $total"
            OVA2VIRT_FAULT="$op:$n:$err" OVA2VIRT_FAULT_COUNTS="$T/.counts" \
                "$@" >"$T/.out" 2>"$T/.err" </dev/null
            rc=$?
            runs=$((runs + 1))
            err_text=$(cat "$T/.err")
            checks=$((checks + 1))
            if [ "$rc" -eq 0 ]; then
                # Only what the result does not depend on may fail (the
                # journal, a scan past the archive's end), and only out
                # loud: a warning names the error.
                # Writes behind the conversion are gathered as they queue
                # up, so a run may make fewer writes than the counting run:
                # then the fault was never reached, nothing was swallowed.
                made=$(awk -v o="$op" '$1 == o { print $2 }' "$T/.counts")
                [ "${made:-0}" -lt "$n" ] ||
                    case "$err_text" in
                        *"warning: "*"Input/output error"* | \
                            *"warning: "*"No space left"*) ;;
                        *) fail "$what: the fault was swallowed: $err_text" ;;
                    esac
                same "$output" "$what"
                rm -f "$output"
            else
                [ "$rc" -le 4 ] || fail "$what: exit $rc (a signal?)"
                errors=$(printf '%s\n' "$err_text" |
                    grep -v '^ova2virt: warning:' | grep -c .)
                [ "$errors" -eq 1 ] ||
                    fail "$what: $errors error lines: $err_text"
                clean "$what"
            fi
            n=$((n + 1))
        done
    done <"$T/counts"
}

same() {  # same FILE WHAT: FILE holds disk.raw's data
    checks=$((checks + 1))
    qemu-img compare -q disk.raw "$1" 2>/dev/null || fail "$2: $1 differs"
}

inject convert out.qcow2 "$OVA2VIRT" convert app-disk1.vmdk out.qcow2
inject "convert to vmdk" out.vmdk "$OVA2VIRT" convert disk.raw out.vmdk \
    -f raw -o subformat=streamOptimized
inject "import --storage-dir" store/faults-disk1.qcow2 \
    "$OVA2VIRT" import -c test:///default --storage-dir store app.ova
inject "import from a pipe" store/faults-disk1.qcow2 \
    sh -c "cat app.ova | \"$OVA2VIRT\" import -c test:///default --storage-dir store -"
echo "$runs injected runs"
finish
