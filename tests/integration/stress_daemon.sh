# Concurrency against a real libvirtd (started by run_integration.sh), issue
# 15: 12 imports at --jobs 12 into one pool, round after round, the daemon
# killed (SIGKILL) in the middle of some rounds and restarted; then a
# frozen daemon (SIGSTOP) and a batch ended by SIGTERM.
#
#  - never an import without a journal: no `import.no-journal` warning in
#    any run (bug 1), no `asynchronous jobs running` failure (bug 3);
#  - after a crash, the re-run of the same plan completes every item: no
#    volume left that blocks it ("already exists"), no journal left;
#  - a frozen daemon fails the batch's item within a bounded time
#    (keepalive, connect timeout), and SIGCONT thaws it afterwards;
#  - SIGTERM ends a running batch within seconds, its report written and
#    its state file valid.
#  - with 4 items in flight on a frozen daemon, every item fails within
#    45 s (the ones libvirt does not wake are given up), and SIGTERM ends
#    such a batch within 10 s with its report and state; after SIGCONT a
#    re-run completes everything, no journal or partial volume left.
#
# Environment: OVA2VIRT, SAMPLES; OVA2VIRT_STRESS_ROUNDS (default 20),
# OVA2VIRT_TEST_RESTART and OVA2VIRT_TEST_PIDFILE (run_integration.sh).
set -u
: "${OVA2VIRT:?}" "${SAMPLES:?}" "${OVA2VIRT_TEST_RESTART:?}" "${OVA2VIRT_TEST_PIDFILE:?}"
. "$(dirname "$0")/daemon_lib.sh"
rounds=${OVA2VIRT_STRESS_ROUNDS:-20}
ova="$SAMPLES/ova2virt-sample-bios.ova"

make_dir_pool stress "$work/pool"
virsh_q pool-autostart stress >/dev/null

plan() {
    {
        printf '{"version": 1, "defaults": {"connect": "%s", "pool": "stress",' "$uri"
        printf ' "networks": {"*": "none"}, "virt_type": "qemu"}, "items": ['
        for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
            [ "$k" = 1 ] || printf ','
            printf '{"input": "%s", "name": "k%s"}' "$ova" "$k"
        done
        printf ']}\n'
    } >"$work/plan.json"
}
plan

daemon_pid() { cat "$OVA2VIRT_TEST_PIDFILE" 2>/dev/null; }
restart_daemon() {
    sh "$OVA2VIRT_TEST_RESTART" || { echo "libvirtd did not restart" >&2; exit 1; }
    i=0
    until virsh_q pool-info stress >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 300 ] || { echo "libvirtd did not come back" >&2; exit 1; }
        sleep 0.1
    done
    virsh_q pool-start stress >/dev/null 2>&1
}
# batch ARGS: the batch (--jobs 12, JSON report), its output in
# $work/out.json and $work/err, its status in $rc.
batch() {
    "$OVA2VIRT" batch --jobs "${jobs:-12}" --json "$@" "$work/plan.json" \
        >"$work/out.json" 2>"$work/err" </dev/null
    rc=$?
    cat "$work/err" >>"$work/all.err"
}
check_run() {
    if grep -q 'import.no-journal' "$work/err"; then
        fail "$1: an import ran without a journal: $(grep no-journal "$work/err" | head -n 2)"
    fi
    if grep -q 'asynchronous jobs running' "$work/err"; then
        fail "$1: a pool refresh was refused: $(grep asynchronous "$work/err" | head -n 1)"
    fi
}
# Everything the batch made goes, for the next round.
clear_round() {
    for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
        virsh_q undefine "k$k" >/dev/null 2>&1
        virsh_q vol-delete --pool stress "k$k-disk1.qcow2" >/dev/null 2>&1
    done
    rm -f "$work/plan.state.json"
}

start=$(date +%s)
crashes=0
r=1
while [ "$r" -le "$rounds" ]; do
    if [ $((r % 3)) = 0 ]; then
        # Kill the daemon at a pseudo-random point of the batch, restart
        # it, re-run: everything must be done, nothing in the way.
        batch &
        bpid=$!
        delay=$(awk -v s="$r" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 1.5 }')
        sleep "$delay"
        kill -9 "$(daemon_pid)" 2>/dev/null
        wait "$bpid"
        rc=$?
        check_run "round $r (killed after ${delay}s)"
        crashes=$((crashes + 1))
        restart_daemon
        batch
        check_run "round $r re-run"
        if [ "$rc" != 0 ]; then
            fail "round $r: the re-run after the crash did not complete: $(grep -v '^\[' "$work/err" | head -n 3; grep failed "$work/err" | head -n 3)"
        fi
    else
        batch
        check_run "round $r"
        [ "$rc" = 0 ] || fail "round $r: $(grep failed "$work/err" | head -n 3)"
    fi
    n=$(find "$OVA2VIRT_STATE_DIR/journal/" -name '*.journal' 2>/dev/null | wc -l)
    [ "$n" = 0 ] || fail "round $r: $n journal(s) left"
    clear_round
    r=$((r + 1))
done
echo "stress: $rounds rounds of 12 imports at --jobs 12, $crashes daemon crashes, $(($(date +%s) - start)) s"

# A frozen daemon (SIGSTOP: the socket still accepts): the item in flight
# fails in its libvirt call when keepalive (5 s x 3) gives up, the next one
# finds the connection lost and the host not answering within
# --connect-timeout, and the rest of the host's items fail at once: the
# batch ends within a bounded time, not never. One item at a time: with
# several in flight, see below.
virsh_q pool-refresh stress >/dev/null
"$OVA2VIRT" batch --jobs 1 --connect-timeout 5 --json "$work/plan.json" \
    >"$work/out.json" 2>"$work/err" </dev/null &
bpid=$!
# Frozen as soon as the first item has started (an import takes about
# 50 ms here: the batch must not be over first).
i=0
until grep -q started "$work/err" 2>/dev/null || [ $i -ge 500 ]; do
    sleep 0.01
    i=$((i + 1))
done
dpid=$(daemon_pid)
kill -STOP "$dpid"
t0=$(date +%s)
i=0
while kill -0 "$bpid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
took=$(($(date +%s) - t0))
if kill -0 "$bpid" 2>/dev/null; then
    fail "frozen daemon: the batch still runs 60 s after SIGSTOP"
    kill -CONT "$dpid"
    wait "$bpid"
else
    wait "$bpid"
    code=$?
    failed=$(python3 -c "import json; print(json.load(open('$work/out.json'))['summary']['failed'])" 2>/dev/null)
    echo "frozen daemon: the batch ended $took s after SIGSTOP (exit $code, $failed item(s) failed): $(grep -m1 'failed' "$work/err" | cut -c1-200)"
    [ "$took" -le 45 ] || fail "frozen daemon: $took s is not bounded enough"
fi
# Frozen before the batch starts: the connection gets no answer, every
# item fails at once, "target unreachable", naming the host.
t0=$(date +%s)
"$OVA2VIRT" batch --jobs 4 --connect-timeout 3 --json "$work/plan.json" \
    >"$work/out.json" 2>"$work/err" </dev/null
took=$(($(date +%s) - t0))
python3 -c "
import json, sys
d = json.load(open('$work/out.json'))
bad = [i['id'] for i in d['items']
       if i['status'] != 'failed' or i['reason'] != 'target unreachable'
       or 'no answer within 3 s' not in i['error']['message']]
sys.exit('items not failed as unreachable: %s' % bad if bad else 0)
" || fail "frozen daemon at start: $(head -n 3 "$work/err")"
[ "$(grep -c 'target unreachable\|no answer within' "$work/err")" -ge 12 ] ||
    fail "frozen daemon at start: not one line per item: $(cat "$work/err")"
[ "$took" -le 15 ] || fail "frozen daemon at start: $took s"
echo "frozen daemon at start: 12 items failed as unreachable in $took s"
kill -CONT "$dpid"
virsh_q list --all >/dev/null || fail "the daemon did not thaw"
restart_daemon_if_dead() { kill -0 "$(daemon_pid)" 2>/dev/null || restart_daemon; }
restart_daemon_if_dead
"$OVA2VIRT" cleanup -c "$uri" >/dev/null 2>&1
clear_round

# SIGTERM: the batch ends within seconds, report and state written. One
# item at a time, so that it is still running when the signal comes; run
# directly (not through a function, whose subshell would get the signal).
"$OVA2VIRT" batch --jobs 1 --json "$work/plan.json" >"$work/out.json" \
    2>"$work/err" </dev/null &
bpid=$!
i=0
until grep -q started "$work/err" 2>/dev/null || [ $i -ge 500 ]; do
    sleep 0.01
    i=$((i + 1))
done
kill -TERM "$bpid"
t0=$(date +%s)
i=0
while kill -0 "$bpid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$bpid" 2>/dev/null; then
    fail "SIGTERM: the batch still runs after 15 s"
    kill -9 "$bpid"
fi
wait "$bpid"
code=$?
echo "SIGTERM: the batch ended $(($(date +%s) - t0)) s after it (exit $code)"
python3 -c "import json; d=json.load(open('$work/out.json')); s=d['summary']; assert s['interrupted'], s; print('SIGTERM report:', s)" ||
    fail "SIGTERM: no report, or not marked interrupted: $(tail -n 3 "$work/err")"
python3 -c "import json; json.load(open('$work/plan.state.json'))" ||
    fail "SIGTERM: the state file is not valid JSON"
n=$(find "$OVA2VIRT_STATE_DIR/journal/" -name '*.journal' 2>/dev/null | wc -l)
[ "$n" = 0 ] || fail "SIGTERM: $n journal(s) left after the rollback"

clear_round

# Several items in flight on a frozen daemon (--jobs 4 --jobs-per-host 4):
# libvirt wakes only one of the calls waiting on the connection keepalive
# closed; the batch gives up on the others 10 s later (their threads
# abandoned) and fails the queued ones at once. Every item ends done
# (before the freeze) or failed, within a bound.
# wait_started N: until N items have started (or 5 s).
wait_started() {
    i=0
    until [ "$(grep -c started "$work/err" 2>/dev/null)" -ge "$1" ] || [ $i -ge 500 ]; do
        sleep 0.01
        i=$((i + 1))
    done
}
# wait_gone PID TENTHS: until PID has exited, or TENTHS tenths of a second.
wait_gone() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
}
"$OVA2VIRT" batch --jobs 4 --jobs-per-host 4 --connect-timeout 5 --json \
    "$work/plan.json" >"$work/out.json" 2>"$work/err" </dev/null &
bpid=$!
wait_started 4
dpid=$(daemon_pid)
kill -STOP "$dpid"
t0=$(date +%s)
wait_gone "$bpid" 600
took=$(($(date +%s) - t0))
if kill -0 "$bpid" 2>/dev/null; then
    fail "frozen daemon, 4 in flight: the batch still runs 60 s after SIGSTOP"
    kill -9 "$bpid"
    wait "$bpid"
else
    wait "$bpid"
    code=$?
    python3 -c "
import json, sys
d = json.load(open('$work/out.json'))
bad = [i['id'] for i in d['items'] if i['status'] not in ('done', 'failed')]
failed = sum(i['status'] == 'failed' for i in d['items'])
print('frozen daemon, 4 in flight: %d failed, %d abandoned' % (failed, d['summary']['abandoned']))
sys.exit('items neither done nor failed: %s' % bad if bad or failed == 0 else 0)
" || fail "frozen daemon, 4 in flight: $(tail -n 3 "$work/err")"
    [ "$code" != 0 ] || fail "frozen daemon, 4 in flight: exit 0"
    echo "frozen daemon, 4 in flight: the batch ended $took s after SIGSTOP (exit $code)"
    [ "$took" -le 45 ] || fail "frozen daemon, 4 in flight: $took s is not bounded enough"
fi
kill -CONT "$dpid"
virsh_q list --all >/dev/null || fail "the daemon did not thaw"

# SIGTERM while items are blocked on a frozen daemon: the batch ends within
# 10 s with its report and a valid state file, whatever libvirt does.
"$OVA2VIRT" batch --jobs 4 --jobs-per-host 4 --json "$work/plan.json" \
    >"$work/out.json" 2>"$work/err" </dev/null &
bpid=$!
wait_started 4
kill -STOP "$dpid"
sleep 1
kill -TERM "$bpid"
t0=$(date +%s)
wait_gone "$bpid" 150
took=$(($(date +%s) - t0))
if kill -0 "$bpid" 2>/dev/null; then
    fail "SIGTERM, frozen daemon: the batch still runs after 15 s"
    kill -9 "$bpid"
fi
wait "$bpid"
code=$?
echo "SIGTERM, frozen daemon: the batch ended $took s after it (exit $code)"
[ "$took" -le 10 ] || fail "SIGTERM, frozen daemon: $took s"
[ "$code" != 0 ] || fail "SIGTERM, frozen daemon: exit 0"
python3 -c "import json; d=json.load(open('$work/out.json')); s=d['summary']; assert s['interrupted'], s; print('SIGTERM, frozen daemon, report:', s)" ||
    fail "SIGTERM, frozen daemon: no report, or not marked interrupted: $(tail -n 3 "$work/err")"
python3 -c "import json; json.load(open('$work/plan.state.json'))" ||
    fail "SIGTERM, frozen daemon: the state file is not valid JSON"
kill -CONT "$dpid"
virsh_q list --all >/dev/null || fail "the daemon did not thaw"
# The re-run cleans what the abandoned imports left (their journals) and
# completes everything: no journal, no volume but the 12 imported.
batch
[ "$rc" = 0 ] || fail "re-run after the frozen daemon: $(grep failed "$work/err" | head -n 3)"
n=$(find "$OVA2VIRT_STATE_DIR/journal/" -name '*.journal' 2>/dev/null | wc -l)
[ "$n" = 0 ] || fail "re-run after the frozen daemon: $n journal(s) left"
virsh_q pool-refresh stress >/dev/null
vols=$(virsh_q vol-list --pool stress | awk '$1 != "" { print $1 }' | sort | tr '\n' ' ')
want=$(for k in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "k$k-disk1.qcow2"; done | sort | tr '\n' ' ')
[ "$vols" = "$want" ] || fail "re-run after the frozen daemon: volumes $vols"
echo "re-run after the frozen daemon: 12 items complete, no journal or partial volume left"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "stress_daemon: ok"
