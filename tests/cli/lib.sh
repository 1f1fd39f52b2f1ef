# Assertions for command-line tests. Source it: . "$SRC/tests/cli/lib.sh"
# Environment (set by ctest): OVA2VIRT (the binary), CORPUS, SRC, BUILD.
set -u
: "${OVA2VIRT:?}" "${CORPUS:?}" "${SRC:?}" "${BUILD:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/ova2virt-cli-XXXXXX")
# Import journals (and anything else ova2virt keeps) stay in the test.
export OVA2VIRT_STATE_DIR="$T/state"
trap 'rm -rf "$T"' EXIT
failures=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run ARGS...: runs ova2virt, leaving $rc, $out (stdout) and $err (stderr).
run() {
    "$OVA2VIRT" "$@" >"$T/.out" 2>"$T/.err"
    rc=$?
    out=$(cat "$T/.out")
    err=$(cat "$T/.err")
}

# expect_rc N DESCRIPTION: the last run exited with N.
expect_rc() {
    checks=$((checks + 1))
    if [ "$rc" -ne "$1" ]; then
        fail "$2: exit $rc, expected $1; stderr: $err"
    fi
}

# expect_err_contains TEXT DESCRIPTION: stderr of the last run contains TEXT.
expect_err_contains() {
    checks=$((checks + 1))
    case "$err" in
        *"$1"*) ;;
        *) fail "$2: stderr lacks '$1': $err" ;;
    esac
}

expect_out_contains() {
    checks=$((checks + 1))
    case "$out" in
        *"$1"*) ;;
        *) fail "$2: stdout lacks '$1': $out" ;;
    esac
}

# expect_one_line_error DESCRIPTION: stderr is exactly one "ova2virt: " line.
expect_one_line_error() {
    checks=$((checks + 1))
    n=$(printf '%s\n' "$err" | grep -c .)
    if [ "$n" -ne 1 ]; then
        fail "$1: expected a one-line error, got $n lines: $err"
    fi
    case "$err" in
        "ova2virt: "*) ;;
        *) fail "$1: error does not start with 'ova2virt: ': $err" ;;
    esac
}

# json_get EXPR: evaluates a Python expression on the last stdout parsed as
# JSON (bound to d), printing the result.
json_get() {
    python3 -c "import json,sys; d=json.load(open('$T/.out')); print($1)"
}

# imp ARGS...: `ova2virt import` into libvirt's test driver, its disks in
# the test's storage directory $st, every NIC on user networking.
imp() { run import -c test:///default --storage-dir "$st" --network '*=user' "$@"; }

# expect_empty WHAT: nothing in $st, no image, no temporary file.
expect_empty() {
    checks=$((checks + 1))
    left=$(ls -A "$st")
    [ -z "$left" ] || fail "$1: left behind: $left"
}

finish() {
    echo "$checks checks, $failures failures"
    [ "$failures" -eq 0 ]
}
