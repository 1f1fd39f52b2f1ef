# `ova2virt run` on the real appliance (embedded QEMU driver, TCG), timed.
#   run_guest.sh NAME PACKAGE EXPECT [ova2virt run options...]
# PACKAGE is relative to $APPLIANCE. EXPECT:
#   boot     the guest prints the marker with the hostname given by --prop
#            and powers off by itself: run exits 0.
#   no-root  the initramfs finds no root device and gives up: the marker
#            never comes, run fails (on its --timeout), and the console
#            shows initramfs-tools' "Gave up waiting for root file system
#            device" for the root UUID.
# An option "DEFAULT-BUS" stands for the default boot policy: no --disk-bus
# at all (`auto`: an LSI Logic boot disk of a Linux guest goes to SATA).
# Exit 77 when not root (the embedded driver).
set -u
name=${1:?}
package=${2:?}
expect=${3:?}
shift 3
. "$(dirname "$0")/realguest_lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: the embedded driver needs root here"; exit 77; }

args=""
for a in "$@"; do
    if [ "$a" = DEFAULT-BUS ]; then
        continue
    else
        args="$args $a"
    fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ova2virt-realguest-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A host name has no underscores (cloud-init could not set it).
host=rg-$(echo "$name" | tr _ -)

case $expect in
    boot) limit=600 ;;
    # rootdelay=60 on the kernel command line: initramfs-tools gives up a
    # minute after it starts looking; then it waits in its shell. (Under
    # TCG on a loaded machine the kernel alone can take two minutes.)
    no-root) limit=360 ;;
    *) echo "unknown expectation '$expect'" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086  # $args: separate options
set -- "$OVA2VIRT" run "$APPLIANCE/$package" --virt-type qemu \
    --prop "hostname=$host" --prop "user-data=$(user_data)" $args \
    --timeout $limit
echo "ova2virt run $package$args --timeout $limit"
read -r first total rc <<EOF2
$(TMPDIR=$tmp python3 "$here/timed_run.py" "$tmp/console" "$@" 2>"$tmp/err")
EOF2
echo "exit $rc after $total s"
cat "$tmp/err" >&2

case $expect in
    boot)
        [ "$rc" = 0 ] || fail "run exited $rc"
        expect_marker "$tmp/console" "$host"
        grep -q "powered off" "$tmp/err" || fail "no power-off report"
        [ "$failures" = 0 ] && record_time "run:$name" "$first" "$total"
        ;;
    no-root)
        [ "$rc" != 0 ] || fail "run succeeded: the guest found its root device"
        if grep -a -q OVA2VIRT-LINUX-OK "$tmp/console"; then
            fail "the guest booted to cloud-init"
        fi
        grep -a -q 'Gave up waiting for root file system device' "$tmp/console" ||
            fail "the console does not show the initramfs giving up: $(tail -c 1200 "$tmp/console" | tr -d '\r')"
        grep -a -q 'UUID=0a5e1d2c-0b7e-4c1a-9d3e-0a2f1b4c5d6e does not exist' "$tmp/console" ||
            fail "the console does not name the missing root device"
        # What the initramfs had: no driver for QEMU's LSI53C895A.
        grep -a -q 'sym53c8xx' "$tmp/console" &&
            fail "sym53c8xx was loaded: the initramfs is not the VMware-only one"
        ;;
esac
[ "$failures" = 0 ] || { tail -c 3000 "$tmp/console" | tr -d '\r' >&2; exit 1; }
echo "ok: $name"
