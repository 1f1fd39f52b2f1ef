# Options that take one value per occurrence (issue 14): --network, --bridge
# and --prop are repeatable, and the word after the value is the next
# argument, not a second value. Before the fix `import --network 'N=x'
# x.ova` failed with "INPUT is required" and `x.ova --prop a=1 b=2` took b=2
# as a property silently.
. "$SRC/tests/cli/lib.sh"

python3 "$SRC/samples/build-samples" "$T/samples" --only bios >/dev/null ||
    { echo "cannot build the sample"; exit 1; }
ova="$T/samples/ova2virt-sample-bios.ova"
mkdir -p "$T/st"
imp() { run import -c test:///default --storage-dir "$T/st" --dry-run "$@"; }

# A package with properties (COT's test OVF, as test_import.sh uses it).
pkg="$T/env"
mkdir -p "$pkg"
cp "$CORPUS/ovf/cot_input.ovf" "$pkg/"
cp "$CORPUS/vmdk/cot_input.vmdk" "$pkg/input.vmdk"
head -c 360448 /dev/zero >"$pkg/input.iso"
printf 'sample config\n' >"$pkg/sample_cfg.txt"

# The input after an option's value is the input.
imp --network 'VM Network=user' "$ova"
expect_rc 0 "--network VALUE INPUT"
expect_out_contains '<interface type="user">' "--network mapped the sample's network"
imp --bridge 'VM Network=no-such-br0' "$ova"
expect_rc 1 "--bridge VALUE INPUT reaches the bridge check"
expect_err_contains "host bridge 'no-such-br0' does not exist" "--bridge was parsed"
imp --name env --prop hostname=router1 "$pkg"
expect_rc 0 "--prop VALUE INPUT"

# --upload sends to a pool: with --storage-dir it is a usage error.
imp --upload "$ova"
expect_rc 2 "--upload --storage-dir"
expect_err_contains "--upload does not go with --storage-dir" "--upload's usage error"

# A second word after --prop's value is an extra argument: a usage error.
imp "$pkg" --prop hostname=a enable-ssh-server=true
expect_rc 2 "--prop a=1 b=2"
expect_err_contains "enable-ssh-server=true" "the stray argument is named"
imp "$ova" --network 'VM Network=user' other=x
expect_rc 2 "--network takes one value"

# The domain's metadata records the values given, not the defaults.
imp --name env --prop hostname=router1 --prop enable-ssh-server=true "$pkg"
expect_rc 0 "two --prop"
python3 - "$T/.out" <<'PY' || fail "metadata values: $(grep property "$T/.out")"
import re, sys
xml = open(sys.argv[1]).read()
props = dict(re.findall(r'<ova2virt:property key="([^"]+)"[^>]*? value="([^"]*)"', xml))
assert props.get("hostname") == "router1", props
assert props.get("enable-ssh-server") == "true", props
assert props.get("enable-http-server") == "false", props  # the default
PY
checks=$((checks + 1))

# Repeated, every occurrence counts.
imp --json --network 'VM Network=user' --network 'Other=none' "$ova"
expect_rc 0 "--network twice"
json_get '[w["id"] for w in d["warnings"]]' | grep -q "policy.network-mapping-unused" ||
    fail "the second --network was not taken"
checks=$((checks + 1))

# run parses --prop the same way (a bad --timeout stops it before any
# import; the parse is what is checked).
run run --prop hostname=x "$ova" --timeout -1
expect_rc 2 "run --prop VALUE INPUT reaches the --timeout check"
case "$err" in *"INPUT is required"*) fail "run: --prop swallowed the input" ;; esac
checks=$((checks + 1))
run run "$ova" --prop a=1 b=2
expect_rc 2 "run --prop a=1 b=2"
expect_err_contains "b=2" "run: the stray argument is named"

finish
