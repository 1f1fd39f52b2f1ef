#!/bin/sh
# `ova2virt batch` over three libvirt hosts reached as real hosts are
# (issue 15): hosts 1 and 3 over qemu+tls://, host 2 over qemu+ssh:// with
# virt-ssh-helper on the far side; each host a libvirtd in namespaces of its
# own (hosts_lib.sh) whose pool the client cannot see, so every volume
# travels as an upload or download stream.
#
# The plan (written to $work/plan/migrate.json; docs/batch.md shows it):
# 10 imports -- the two sample appliances, an OVF directory and a two-disk
# appliance made here, several copies under different names -- and 2
# exports of domains already on hosts 1 and 2, 4 items per host, run with
# --jobs 4 --jobs-per-host 2. Host 2's link is throttled to 24 Mbit/s and
# its libvirtd is killed (SIGKILL) as soon as one of its volumes is being
# written: its items fail, one line each naming the host; the others finish;
# the batch exits 1. Host 2 restarted, the same plan run again: its items
# complete, the others are skipped. Then, on every host: exactly the
# domains and volumes its items name and nothing else (nothing duplicated,
# no partial volume), every volume identical to `ova2virt convert` of its
# source VMDK (virsh vol-download + qemu-img compare), the exports verified
# and their disks identical to the domains' volumes, and no import journal
# left.
#
# Every failed item's line and JSON error name its host, also a failure in
# the middle of an item (a stream cut). With an ova2virt without --jobs-per-host (before the concur branch), the
# batch runs with --jobs 4 and two more checks are lenient: an import
# refused by a pool refresh beside another upload (bug 3; re-run as a user
# would) and an unreachable host's import reported as "new" (bug 5).
#
# Environment: OVA2VIRT (the binary), SAMPLES (build/samples/out), SRC (the
# source tree). Exit 77 when the machine cannot run it (not root, tools
# missing, no namespaces).
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${SRC:?}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/hosts_lib.sh"

why=$(mh_check_tools) || { echo "SKIP: $why"; exit 77; }
started=$(date +%s)
mh_init || exit 1
work=$MH_WORK
export OVA2VIRT_STATE_DIR="$work/state"  # import journals stay in the test
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
elapsed() { echo "$(($(date +%s) - started)) s"; }

# --- the hosts: started in sequence (each probes QEMU: ~8 s of CPU) -------
for n in 1 2 3; do mh_start_host "$n" || exit 1; done
echo "hosts up after $(elapsed)"
uri1=$(mh_uri 1 tls)
uri2=$(mh_uri 2 ssh)
# shellcheck disable=SC2034  # read through uri_of
uri3=$(mh_uri 3 tls)
uri_of() { eval "echo \"\$uri$1\""; }

# --- the appliances ------------------------------------------------------
plan=$work/plan
mkdir -p "$plan/packages" "$plan/out" "$work/ref"
cp "$SAMPLES/ova2virt-sample-bios.ova" "$SAMPLES/ova2virt-sample-uefi.ova" \
    "$plan/packages/"
cp -r "$SAMPLES/ova2virt-sample-bios" "$plan/packages/bios-dir"
# A two-disk appliance: the BIOS sample's boot disk and a 48 MiB data disk,
# packed the way ovftool packs one.
mh_make_appliance "$SAMPLES" "$SRC" "$work" multi 48 ||
    { echo "cannot build the two-disk appliance" >&2; exit 1; }
cp "$work/multi.ova" "$plan/packages/"
tar -xf "$work/multi.ova" -C "$work" multi-disk2.vmdk

# What every volume must hold: `ova2virt convert` of its source VMDK.
ref() {
    "$OVA2VIRT" convert "$1" "$work/ref/$2.raw" -O raw >/dev/null 2>"$work/ref/$2.err" ||
        { echo "convert $1: $(cat "$work/ref/$2.err")" >&2; exit 1; }
}
ref "$SAMPLES/ova2virt-sample-bios/ova2virt-sample-bios-disk1.vmdk" bios
ref "$SAMPLES/ova2virt-sample-uefi/ova2virt-sample-uefi-disk1.vmdk" uefi
ref "$work/multi-disk2.vmdk" data
cmp -s "$work/ref/bios.raw" "$SAMPLES/ova2virt-sample-bios.raw" ||
    fail "ova2virt convert of the BIOS sample's disk differs from the sample's raw image"
cmp -s "$work/ref/data.raw" "$work/multi.data.raw" || fail "ova2virt convert of the data disk differs from its raw image"

# --- domains already on hosts 1 and 2, for the exports --------------------
for n in 1 2; do
    "$OVA2VIRT" import -q -c "$(uri_of $n)" --name "pre$n" --virt-type qemu \
        --network "VM Network=none" "$SAMPLES/ova2virt-sample-bios.ova" \
        >/dev/null 2>"$work/pre$n.err" ||
        { echo "import pre$n: $(cat "$work/pre$n.err")" >&2; exit 1; }
done

# --- the plan -------------------------------------------------------------
# NAME HOST KIND(=reference disks) for each import; the exports after.
imports="bios-a:1:bios uefi-a:2:uefi bios-b:3:bios dir-a:1:bios uefi-b:3:uefi
bios-c:2:bios multi-a:1:multi uefi-c:2:uefi bios-d:3:bios multi-b:3:multi"
input_of() {
    case $1 in
    bios) echo packages/ova2virt-sample-bios.ova ;;
    uefi) echo packages/ova2virt-sample-uefi.ova ;;
    multi) echo packages/multi.ova ;;
    esac
}
{
    echo '{'
    echo '  "version": 1,'
    echo '  "defaults": {"pool": "default", "networks": {"*": "none"}, "virt_type": "qemu"},'
    echo '  "items": ['
    for it in $imports; do
        name=${it%%:*} rest=${it#*:}
        n=${rest%%:*} kind=${rest#*:}
        input=$(input_of "$kind")
        [ "$name" = dir-a ] && input=packages/bios-dir
        echo "    {\"input\": \"$input\", \"name\": \"$name\", \"connect\": \"$(uri_of "$n")\"},"
    done
    echo "    {\"kind\": \"export\", \"domain\": \"pre1\", \"output\": \"out/pre1.ova\", \"connect\": \"$uri1\"},"
    echo "    {\"kind\": \"export\", \"domain\": \"pre2\", \"output\": \"out/pre2.ova\", \"connect\": \"$uri2\"}"
    echo '  ]'
    echo '}'
} >"$plan/migrate.json"

# --jobs-per-host comes with the per-host scheduling of issue 15 (branch
# concur). TODO(issue 15): once that is merged, `batch --help` always has
# it and the fallback below goes.
jobs="--jobs 4"
if "$OVA2VIRT" batch --help 2>&1 | grep -q -- '--jobs-per-host'; then
    jobs="--jobs 4 --jobs-per-host 2"
else
    echo "note: this ova2virt has no --jobs-per-host; running with --jobs 4 (TODO: merge concur)"
fi
# Before that merge some checks report known gaps instead of failing.
premerge=false
[ "$jobs" = "--jobs 4" ] && premerge=true

# batch: runs the plan with --json, leaving $rc, $work/out.json, $work/err.
batch() {
    # shellcheck disable=SC2086  # $jobs is two or four words
    # Bounded below ctest's TIMEOUT, so that the hosts are always torn down.
    timeout 240 "$OVA2VIRT" batch --json $jobs "$plan/migrate.json" >"$work/out.json" 2>"$work/err"
    rc=$?
}
item() {  # item ID EXPR: EXPR on that item of the last report
    python3 -c "import json; d=json.load(open('$work/out.json'))
i=[i for i in d['items'] if i['id']=='$1'][0]; print($2)"
}
summary() {
    python3 -c "import json; s=json.load(open('$work/out.json'))['summary']
print(' '.join(f'{k}={s[k]}' for k in ('done','skipped','failed','not_started')))"
}
host2_ids="uefi-a bios-c uefi-c out/pre2.ova"
others="bios-a bios-b dir-a uefi-b multi-a bios-d multi-b out/pre1.ova"

# --- run 1: host 2 dies while one of its volumes is being written ---------
# Its link throttled so that "being written" lasts long enough to hit.
tc qdisc add dev "mh${MH_TAG}h2" root tbf rate 24mbit burst 64kb latency 400ms ||
    { echo "cannot throttle host 2's link" >&2; exit 1; }
t0=$(date +%s.%N)
# shellcheck disable=SC2086
timeout 240 "$OVA2VIRT" batch --json $jobs "$plan/migrate.json" >"$work/out.json" 2>"$work/err" &
bpid=$!
i=0
killed=""
while kill -0 "$bpid" 2>/dev/null && [ $i -lt 1200 ]; do
    # A volume of host 2 exists and has data in it: an upload is under way.
    if find "$work/h2/lib/images" -type f -size +64k ! -name 'pre2-*' |
        grep -q .; then
        mh_kill_libvirtd 2
        killed="after $(echo "$(date +%s.%N) - $t0" | bc) s"
        break
    fi
    sleep 0.05
    i=$((i + 1))
done
wait "$bpid"
rc=$?
t1=$(date +%s.%N)
echo "run 1: host 2 killed ${killed:-never}; $(summary), exit $rc in $(echo "$t1 - $t0" | bc) s"
[ -n "$killed" ] || fail "host 2 never had a volume being written: $(cat "$work/err")"
[ $rc -eq 1 ] || fail "run 1: exit $rc, expected 1"
# TODO(issue 15, bug 3): two imports into one pool at once can fail with
# "pool 'default' has asynchronous jobs running" (a whole-pool refresh
# beside another volume's upload). Branch concur fixes it; until that is
# merged (no --jobs-per-host yet) such a failure of another host's item is
# reported here as the known bug and the item retried by the resume below,
# and after the merge it is an error.
bug3() {
    [ "$(item "$1" "i['status'] == 'failed' and 'asynchronous jobs running' in i['error']['message']")" = True ]
}
retried=""
for id in $others; do
    [ "$(item "$id" "i['status']")" = "done" ] && continue
    if $premerge && bug3 "$id"; then
        echo "known bug (issue 15, bug 3): $id: $(item "$id" "i['error']['message']")"
        retried="$retried $id"
    else
        fail "run 1: $id: $(item "$id" "i")"
    fi
done
nr=$(echo $retried | wc -w)
[ "$(summary)" = "done=$((8 - nr)) skipped=0 failed=$((4 + nr)) not_started=0" ] ||
    fail "run 1: $(summary): $(cat "$work/err")"
for id in $host2_ids; do
    [ "$(item "$id" "i['status']")" = failed ] || fail "run 1: $id: $(item "$id" "i")"
    # One line each, naming the host.
    lines=$(grep -c "'$id': failed" "$work/err")
    [ "$lines" -eq 1 ] || fail "run 1: $id: $lines failure lines"
    grep "'$id': failed" "$work/err" | grep -q "$(mh_ip 2)" ||
        fail "run 1: $id's failure does not name host 2: $(grep "'$id': failed" "$work/err")"
    msg=$(item "$id" "i['error']['message']")
    case $msg in *"
"*) fail "run 1: $id: a message of several lines: $msg" ;; esac
    case $msg in *"$(mh_ip 2)"*) ;; *) fail "run 1: $id: its JSON error does not name host 2: $msg" ;; esac
    # An item that never reached its host says so (docs/batch.md): an
    # import "target unreachable", an export (whose source is on the host)
    # that or "source unreadable". TODO(issue 15, bug 5): with sshd up and
    # libvirtd dead, an import still says "new"; an error once the concur
    # branch is complete (--jobs-per-host), a known gap until then.
    reason=$(item "$id" "i['reason']")
    case $msg/$id/$reason in
    *"cannot connect to "*/*/"target unreachable") ;;
    *"cannot connect to "*/out/*/"source unreadable") ;;
    *"cannot connect to "*)
        if $premerge; then
            echo "known gap (issue 15, bug 5): $id: reason '$reason' for a host that cannot be reached"
        else
            fail "run 1: $id: reason '$reason' for: $msg"
        fi ;;
    esac
done
grep "failed" "$work/err" | sed 's/^/  /'
echo "left on host 2 by the crash: $(ls -A "$work/h2/lib/images" | grep -v '^pre2-' | tr '\n' ' ')"

# --- run 2: host 2 back; its items complete, the rest are skipped --------
tc qdisc del dev "mh${MH_TAG}h2" root
mh_restart_libvirtd 2 || exit 1
t0=$(date +%s.%N)
batch
echo "run 2: $(summary), exit $rc in $(echo "$(date +%s.%N) - $t0" | bc) s"
for id in $others; do
    case " $retried " in *" $id "*) continue ;; esac
    [ "$(item "$id" "i['status']")" = skipped ] || fail "run 2: $id: $(item "$id" "i")"
done
# The known bug 3 (above) again, before the merge: the same plan run again
# (at most 3 more times), as a user resumes.
n=0
while [ $rc -ne 0 ] && $premerge && [ $n -lt 3 ]; do
    ids=$(python3 -c "import json; print(' '.join(i['id'] for i in json.load(open('$work/out.json'))['items'] if i['status'] != 'done' and i['status'] != 'skipped'))")
    for id in $ids; do
        bug3 "$id" || break 2
        echo "known bug (issue 15, bug 3): $id: $(item "$id" "i['error']['message']")"
    done
    batch
    echo "run 2, again: $(summary), exit $rc"
    n=$((n + 1))
done
[ $rc -eq 0 ] || fail "run 2: exit $rc: $(cat "$work/err")"
python3 -c "import json, sys; d=json.load(open('$work/out.json'))
sys.exit(any(i['status'] not in ('done', 'skipped') for i in d['items']))" ||
    fail "run 2: $(summary): $(cat "$work/err")"

# --- what is on each host: exactly what the plan puts there ---------------
# host -> domains and volumes expected.
expect_domains() {
    for it in $imports; do
        name=${it%%:*} rest=${it#*:}
        [ "${rest%%:*}" = "$1" ] && echo "$name"
    done
    [ "$1" -le 2 ] && echo "pre$1"
}
disks_of() {  # name kind -> "volume reference" lines
    case $2 in
    multi) echo "$1-disk1.qcow2 bios"; echo "$1-disk2.qcow2 data" ;;
    *) echo "$1-disk1.qcow2 $2" ;;
    esac
}
expect_volumes() {
    for it in $imports; do
        name=${it%%:*} rest=${it#*:}
        [ "${rest%%:*}" = "$1" ] && disks_of "$name" "${rest#*:}"
    done
    [ "$1" -le 2 ] && echo "pre$1-disk1.qcow2 bios"
}
for n in 1 2 3; do
    expect_domains "$n" | sort >"$work/want.dom.$n"
    mh_virsh "$n" list --all --name | sed '/^$/d' | sort >"$work/have.dom.$n"
    cmp -s "$work/want.dom.$n" "$work/have.dom.$n" ||
        fail "host $n: domains differ from the plan: $(diff "$work/want.dom.$n" "$work/have.dom.$n" | grep '^[<>]' | tr '\n' ' ')"
    expect_volumes "$n" | sort >"$work/want.vol.$n"
    cut -d' ' -f1 "$work/want.vol.$n" >"$work/want.volnames.$n"
    mh_virsh "$n" pool-refresh default >/dev/null
    mh_virsh "$n" vol-list default | awk '{print $1}' | sort >"$work/have.vol.$n"
    cmp -s "$work/want.volnames.$n" "$work/have.vol.$n" ||
        fail "host $n: volumes differ from the plan: $(diff "$work/want.volnames.$n" "$work/have.vol.$n" | grep '^[<>]' | tr '\n' ' ')"
    # The pool's directory holds the volumes and nothing else.
    ls -A "$work/h$n/lib/images" | sort | cmp -s - "$work/have.vol.$n" ||
        fail "host $n: files in the pool: $(ls -A "$work/h$n/lib/images" | tr '\n' ' ')"
    # Every volume, downloaded, against the converted source disk.
    while read -r vol kind; do
        out=$work/dl.$n.$vol
        if mh_virsh "$n" vol-download --pool default "$vol" "$out" 2>"$work/dl.err"; then
            qemu-img compare -q "$work/ref/$kind.raw" "$out" ||
                fail "host $n: $vol differs from its source disk"
            rm -f "$out"
        else
            fail "host $n: vol-download $vol: $(cat "$work/dl.err")"
        fi
    done <"$work/want.vol.$n"
done
echo "hosts checked: $(cat "$work/have.dom.1" "$work/have.dom.2" "$work/have.dom.3" | wc -l) domains, $(cat "$work/have.vol.1" "$work/have.vol.2" "$work/have.vol.3" | wc -l) volumes"

# --- the exports: whole, and the domains' disks -----------------------------
for n in 1 2; do
    ova=$plan/out/pre$n.ova
    "$OVA2VIRT" verify "$ova" >"$work/verify.$n" 2>&1 ||
        fail "export pre$n: verify: $(cat "$work/verify.$n")"
    mkdir -p "$work/x$n"
    tar -xf "$ova" -C "$work/x$n" || fail "export pre$n: not a tar"
    for vmdk in "$work/x$n"/*.vmdk; do
        qemu-img compare -q "$work/ref/bios.raw" "$vmdk" ||
            fail "export pre$n: $(basename "$vmdk") differs from the domain's disk"
    done
done

# --- nothing left behind ---------------------------------------------------
# (Lock files may stay: a journal is a *.journal, or *.journal.tmp.)
left=$(find "$OVA2VIRT_STATE_DIR" -type f -name '*.journal*' 2>/dev/null)
[ -z "$left" ] || fail "journals left: $left"
find "$plan" -name '*ova2virt-tmp*' | grep -q . && fail "temporary files left in the plan's folder"

# A third run skips everything and changes nothing.
batch
[ $rc -eq 0 ] && [ "$(summary)" = "done=0 skipped=12 failed=0 not_started=0" ] ||
    fail "run 3: exit $rc, $(summary)"

echo "multihost: $failures failures in $(elapsed)"
[ $failures -eq 0 ]
