# bench/lib.sh: what bench/run-all and bench/daemon-import share. Sourced.
#
#   measure SCENARIO NAME COMMAND...
#     Runs COMMAND (a simple command: use sh -c '...' for a pipeline) RUNS
#     times. Before each run the shell code in $PREP is evaluated (remove
#     the last run's output) and dirty pages are synced, so that no run
#     pays for another's writes. Appends to $RESULTS one line:
#       SCENARIO<TAB>NAME<TAB>median seconds<TAB>peak RSS KiB<TAB>all times
#     Peak RSS is /usr/bin/time's %M: the largest resident set of the
#     command or of any process it waited for (a pipeline's biggest member).
#     A sixth field holds the median CPU seconds (user + system, of every
#     thread and child): it hardly depends on what else the machine runs,
#     wall time does.
#     A failing command stops the benchmark, naming it.

: "${RUNS:=3}"
: "${PREP:=}"

measure() {
    _scenario=$1 _name=$2
    shift 2
    _times="" _cpus="" _rss=0 _i=0
    while [ "$_i" -lt "$RUNS" ]; do
        eval "$PREP"
        sync
        if ! /usr/bin/time -f "%e %M %U %S" -o "$W/time.out" "$@" \
            >"$W/cmd.out" 2>"$W/cmd.err"; then
            echo "bench: $_name failed:" >&2
            tail -n 5 "$W/cmd.err" >&2
            exit 1
        fi
        # The last line: time's own; earlier ones may be the command's.
        read -r _t _m _u _s <<EOF
$(tail -n 1 "$W/time.out")
EOF
        _times="$_times $_t"
        _cpus="$_cpus $(awk -v u="$_u" -v s="$_s" 'BEGIN { printf "%.2f", u + s }')"
        [ "$_m" -gt "$_rss" ] && _rss=$_m
        _i=$((_i + 1))
    done
    # shellcheck disable=SC2086  # one word per time
    _median=$(printf '%s\n' $_times | sort -n | sed -n "$(((RUNS + 1) / 2))p")
    # shellcheck disable=SC2086
    _cpu=$(printf '%s\n' $_cpus | sort -n | sed -n "$(((RUNS + 1) / 2))p")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$_scenario" "$_name" "$_median" \
        "$_rss" "${_times# }" "$_cpu" >>"$RESULTS"
    printf '  %-52s %7ss %6d MiB %7ss CPU  (%s)\n' "$_name" "$_median" \
        $((_rss / 1024)) "$_cpu" "${_times# }" >&2
}

# result SCENARIO NAME FIELD: a field of a measured row (3: seconds, 4: KiB).
result() {
    awk -F'\t' -v s="$1" -v n="$2" -v f="$3" \
        '$1 == s && $2 == n { print $f; exit }' "$RESULTS"
}
