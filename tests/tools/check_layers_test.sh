#!/bin/sh
# check_layers.py must refuse each kind of bad include and pass a clean tree.
#   check_layers_test.sh CHECK_LAYERS_PY
set -u
check=${1:?usage: check_layers_test.sh CHECK_LAYERS_PY}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
failures=0

# tree CASE FILE LINE: a minimal tree plus FILE holding LINE.
tree() {
    rm -rf "$T/src" && mkdir -p "$T/src/core" "$T/src/ova" "$T/src/pipeline" "$T/src/cli"
    echo '#include "core/status.h"' >"$T/src/pipeline/import.cc"
    echo '#include "pipeline/import.h"' >"$T/src/cli/app.cc"
    mkdir -p "$(dirname "$T/src/$1")" && echo "$2" >>"$T/src/$1"
}
expect() {  # expect RC WHAT
    python3 "$check" "$T/src" >"$T/out" 2>&1
    rc=$?
    if [ "$rc" -ne "$1" ]; then
        echo "FAIL: $2: exit $rc, expected $1: $(cat "$T/out")"
        failures=$((failures + 1))
    else
        echo "ok: $2: $(head -n1 "$T/out")"
    fi
}
tree core/status.h '#include <string>'
expect 0 "a clean tree"
tree core/status.h '#include "ova/manifest.h"'
expect 1 "core includes a folder above it"
tree ova/manifest.cc '#include "convert/vmdk.h"'
expect 1 "a folder includes one of its own layer"
tree cli/cmd_export.cc '#include "virtdriver/connection.h"'
expect 1 "cli includes virtdriver"
tree pipeline/import.cc '#include "tests/support/test_util.h"'
expect 1 "product code includes tests/"
tree pipeline/import_test.cc '#include "tests/support/test_util.h"'
expect 0 "a test includes tests/support"
tree ova/x.h '#include "nosuch/y.h"'
expect 1 "an unknown folder"
[ "$failures" -eq 0 ]
