# Fault injection and crash safety against a real libvirtd (started by
# run_integration.sh, which exports OVA2VIRT_TEST_URI and OVA2VIRT_TEST_DIR):
#
#  1. every read, write, fsync and open of an import into a directory pool
#     fails in turn (OVA2VIRT_FAULT, counted first with OVA2VIRT_FAULT=count),
#     once with the volume written in place and once through an upload
#     stream;
#  2. each libvirt step fails (OVA2VIRT_LIBVIRT_FAULT): volume create,
#     upload, pool refresh, define, start -- before the call and after it
#     (the daemon acted, the reply was lost);
#  3. a rollback that cannot finish (volume delete fails) leaves its
#     journal, and `ova2virt cleanup` finishes it;
#  4. the importer is killed with SIGKILL at random points: what is left is
#     shown, then removed by `ova2virt cleanup` or by the next import.
#
# After every failure: no domain, no volume, no file in the pools, no
# journal. Environment: OVA2VIRT (the binary), SAMPLES (built samples).
# Arguments: the parts to run (io, libvirt, rollback, kill); default all.
set -u
parts=${*:-io libvirt rollback kill}
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${OVA2VIRT_TEST_URI:?}" "${OVA2VIRT_TEST_DIR:?}"
. "$(dirname "$0")/daemon_lib.sh"
export OVA2VIRT_STATE_DIR="$work/state"
ova="$SAMPLES/ova2virt-sample-bios.ova"
raw="$SAMPLES/ova2virt-sample-bios.raw"
checks=0

# Two pools. "inplace" lives where this process sees it: the volume file is
# written directly. "upload" lives at a path that exists only in the
# daemon's mount namespace (its /var/lib/libvirt is private), as a remote
# pool's would: the volume goes through a virStorageVolUpload stream.
inplace_dir="$work/pool-inplace"
upload_dir="/var/lib/libvirt/images/ova2virt-faults-$$"
make_dir_pool inplace "$inplace_dir"
make_dir_pool upload "$upload_dir"
[ ! -e "$upload_dir" ] || { echo "$upload_dir is visible here" >&2; exit 1; }

# expect_clean WHAT: nothing of an import is left anywhere.
expect_clean() {
    checks=$((checks + 1))
    doms=$(virsh_q list --all --name | grep -v '^$' | tr '\n' ' ')
    [ -z "$doms" ] || fail "$1: domains left: $doms"
    for p in inplace upload; do
        virsh_q pool-refresh "$p" >/dev/null 2>&1
        vols=$(virsh_q vol-list "$p" | grep -v '^$' | awk '{print $1}' |
            tr '\n' ' ')
        [ -z "$vols" ] || fail "$1: volumes left in $p: $vols"
    done
    files=$(find "$inplace_dir" -mindepth 1 | head -n 3)
    [ -z "$files" ] || fail "$1: files left: $files"
    journals=$(find "$OVA2VIRT_STATE_DIR" -name '*.journal*' 2>/dev/null)
    [ -z "$journals" ] || fail "$1: journals left: $journals"
}

# remove_import: undoes a successful import (a fault that did not stop it).
remove_import() {
    virsh_q destroy fi >/dev/null 2>&1
    virsh_q undefine --nvram fi >/dev/null 2>&1
    for p in inplace upload; do
        virsh_q vol-delete --pool "$p" fi-disk1.qcow2 >/dev/null 2>&1
    done
}

# check_failed WHAT RC: a failed import failed properly and left nothing.
check_failed() {
    checks=$((checks + 1))
    if [ "$2" -eq 0 ]; then
        return
    fi
    [ "$2" -le 4 ] || fail "$1: exit $2 (a signal?)"
    errors=$(grep -v '^ova2virt: warning:' "$work/err" | grep -c .)
    [ "$errors" -eq 1 ] || fail "$1: $errors error lines: $(cat "$work/err")"
    expect_clean "$1"
}

# check_succeeded WHAT: a run the fault did not stop imported the disk
# right and said what it gave up (a warning naming the error).
check_succeeded() {
    checks=$((checks + 1))
    # (Into the upload pool every import falls back to the stream; only in
    # the in-place pool does the fallback answer an injected fault.)
    [ "$2" = upload ] && sed -i '/import.upload-fallback.*No such file/d' "$work/err"
    grep -q -e 'warning: .*Input/output error' -e 'warning: .*No space left' \
        -e 'warning: .*injected failure' -e 'import.upload-fallback' \
        "$work/err" ||
        fail "$1: the fault was swallowed: $(cat "$work/err")"
    path=$(virsh_q vol-path --pool "$2" fi-disk1.qcow2 2>/dev/null)
    [ -n "$path" ] || fail "$1: no volume after a successful import"
    remove_import
    expect_clean "$1 (after removing the import)"
}

import() {  # import POOL [options]: the sample as domain "fi"
    into=$1
    shift
    "$OVA2VIRT" import -c "$uri" --pool "$into" --name fi \
        --network '*=user' "$@" "$ova" >/dev/null 2>"$work/err" </dev/null
}

# --- 1. every I/O operation in turn ------------------------------------
runs=0
want io && for pool in inplace upload; do
    OVA2VIRT_FAULT=count OVA2VIRT_FAULT_COUNTS="$work/counts" import "$pool" ||
        { fail "counting import into $pool: $(cat "$work/err")"; continue; }
    path=$(virsh_q vol-path --pool "$pool" fi-disk1.qcow2)
    if [ "$pool" = upload ]; then
        # Not visible here: compare through a download.
        virsh_q vol-download --pool upload fi-disk1.qcow2 "$work/down.qcow2"
        path="$work/down.qcow2"
    fi
    qemu-img compare -q "$raw" "$path" || fail "$pool: the import differs"
    rm -f "$work/down.qcow2"
    remove_import
    expect_clean "$pool: after the counting run"
    echo "$pool: $(tr '\n' ' ' <"$work/counts")"
    while read -r op total; do
        case $op in write) err=ENOSPC ;; *) err=EIO ;; esac
        n=1
        while [ "$n" -le "$total" ]; do
            OVA2VIRT_FAULT="$op:$n:$err" OVA2VIRT_FAULT_COUNTS="$work/counts.run" \
                import "$pool"
            rc=$?
            runs=$((runs + 1))
            # Writes behind the conversion are gathered as they queue up, so
            # a run may make fewer writes than the counting run: then the
            # fault was never reached (the import must still be right).
            made=$(awk -v o="$op" '$1 == o { print $2 }' "$work/counts.run")
            if [ "$rc" -eq 0 ] && [ "${made:-0}" -lt "$n" ]; then
                echo "$pool: $op $n of $total: not reached (this run made $made)"
                checks=$((checks + 1))
                path=$(virsh_q vol-path --pool "$pool" fi-disk1.qcow2 2>/dev/null)
                [ -n "$path" ] || fail "$pool: $op $n: no volume after a successful import"
                remove_import
                expect_clean "$pool: $op $n (after removing the import)"
            elif [ "$rc" -eq 0 ]; then
                check_succeeded "$pool: $op $n of $total" "$pool"
            else
                check_failed "$pool: $op $n of $total" "$rc"
            fi
            n=$((n + 1))
        done
    done <"$work/counts"
done
want io && echo "I/O faults: $runs injected imports"

# --- 2. each libvirt step, before and after the call -------------------
want libvirt && for pool in inplace upload; do
    steps="create refresh define start"
    [ "$pool" = upload ] && steps="$steps upload upload:2 upload:3"
    for step in $steps; do
        for when in "" ":after"; do
            spec="$step$when"
            OVA2VIRT_LIBVIRT_FAULT="$spec" import "$pool" --start
            rc=$?
            echo "$pool: libvirt $spec: exit $rc: $(grep -v warning: "$work/err")"
            what="$pool: libvirt $spec"
            checks=$((checks + 1))
            if [ "$rc" -eq 0 ]; then
                fail "$what: the import succeeded"
                remove_import
            else
                grep -q "injected failure" "$work/err" ||
                    fail "$what: $(cat "$work/err")"
                check_failed "$what" "$rc"
            fi
        done
    done
done

# --- 3. a rollback that cannot finish; cleanup finishes it -------------
rollback_part() {
bad="$work/flipped.ova"
flip_disk_tail "$ova" "$bad"
OVA2VIRT_LIBVIRT_FAULT=delete "$OVA2VIRT" import -c "$uri" --pool inplace \
    --name fi --network '*=user' "$bad" 2>"$work/err"
rc=$?
checks=$((checks + 1))
[ "$rc" -eq 3 ] || fail "rollback fault: exit $rc: $(cat "$work/err")"
grep -q "cleaning up failed too" "$work/err" || fail "rollback fault: $(cat "$work/err")"
virsh_q vol-info --pool inplace fi-disk1.qcow2 >/dev/null 2>&1 ||
    fail "rollback fault: the volume should still be there"
ls "$OVA2VIRT_STATE_DIR"/journal/*.journal >/dev/null 2>&1 ||
    fail "rollback fault: the journal should still be there"
"$OVA2VIRT" cleanup -c "$uri" --json >"$work/cleanup.json" 2>"$work/err" ||
    fail "cleanup after the rollback fault: $(cat "$work/err")"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); \
assert d['removed'] == 1 and d['failed'] == 0, d" "$work/cleanup.json" ||
    fail "cleanup report: $(cat "$work/cleanup.json")"
expect_clean "rollback fault, then cleanup"
}
want rollback && rollback_part

# --- 4. SIGKILL at random points ----------------------------------------
kill_part() {
# How long a whole import takes here, to spread the kills over it.
start=$(date +%s%N)
import inplace --start || fail "timing import: $(cat "$work/err")"
ms=$((($(date +%s%N) - start) / 1000000))
remove_import
expect_clean "after the timing import"
echo "an import with --start takes $ms ms"
kills=${OVA2VIRT_KILLS:-10}
i=1
left_total=0
while [ "$i" -le "$kills" ]; do
    delay=$(awk -v s="$i" -v ms="$ms" 'BEGIN { srand(s * 7919); printf "%.3f", rand() * ms * 1.1 / 1000 }')
    pool=inplace
    [ $((i % 3)) -eq 0 ] && pool=upload
    "$OVA2VIRT" import -c "$uri" --pool "$pool" --name fi --network '*=user' \
        --start "$ova" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ $? -eq 0 ]; then
        echo "kill $i after ${delay}s ($pool): the import had finished"
        remove_import
        expect_clean "kill $i"
        i=$((i + 1))
        continue
    fi
    # What is left: the journal's view, and libvirt's.
    left=$(virsh_q list --all --name | grep -c .)
    vols=$(virsh_q vol-list "$pool" 2>/dev/null | grep -c .)
    tmp=$(find "$inplace_dir" -name '*ova2virt-tmp*' | grep -c .)
    journal=$(ls "$OVA2VIRT_STATE_DIR"/journal/*.journal 2>/dev/null | grep -c .)
    echo "kill $i after ${delay}s ($pool): left $left domain(s), $vols volume(s), $tmp temporary file(s), $journal journal(s)"
    # Killed after it committed (its journal deleted or marked committed:
    # under ASan the exit's leak check leaves time for that): the domain
    # is a finished import, the user's, which cleanup rightly keeps.
    committed=0
    if [ "$journal" -eq 0 ] && [ $((left + vols)) -gt 0 ]; then
        committed=1
    elif grep -qx committed "$OVA2VIRT_STATE_DIR"/journal/*.journal 2>/dev/null; then
        committed=1
    fi
    if [ "$committed" = 1 ]; then
        [ "$left" -eq 1 ] && [ "$vols" -eq 1 ] && [ "$tmp" -eq 0 ] ||
            fail "kill $i: a committed import that is not whole"
        echo "  the import had committed: kept by cleanup, removed by the test"
        "$OVA2VIRT" cleanup -c "$uri" >"$work/out" 2>"$work/err" ||
            fail "kill $i: cleanup: $(cat "$work/out" "$work/err")"
        [ "$(virsh_q list --all --name | grep -c .)" -eq 1 ] ||
            fail "kill $i: cleanup removed a committed import's domain"
        remove_import
        expect_clean "kill $i"
        i=$((i + 1))
        continue
    fi
    left_total=$((left_total + left + vols))
    if [ $((i % 2)) -eq 1 ]; then
        "$OVA2VIRT" cleanup -c "$uri" >"$work/out" 2>"$work/err" ||
            fail "kill $i: cleanup: $(cat "$work/out" "$work/err")"
        sed 's/^/  cleanup: /' "$work/out"
    else
        # The next import cleans up first, and says so.
        import "$pool" || fail "kill $i: the next import: $(cat "$work/err")"
        if [ "$journal" -gt 0 ] && [ $((left + vols)) -gt 0 ]; then
            grep -q "import.cleaned-leftovers" "$work/err" ||
                fail "kill $i: the next import did not report the cleanup"
        fi
        grep 'cleaned-leftovers' "$work/err" | sed 's/^/  next import: /'
        remove_import
    fi
    expect_clean "kill $i"
    i=$((i + 1))
done
echo "SIGKILL: $kills runs, $left_total domains/volumes left behind and removed"
}
want kill && kill_part

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
