# A host that is not ready (issue 13): no daemon behind the URI is one line
# that names the socket and says how to start libvirt; a pool named with
# --pool that does not exist stays an error, and only a qemu driver gets a
# `default` pool made for it. (The fresh daemon with no pool at all, the
# unreachable pool directory and the inactive network are
# tests/integration/fresh_host_daemon.sh.)
. "$SRC/tests/cli/lib.sh"

python3 "$SRC/samples/build-samples" "$T/samples" --only bios >/dev/null ||
    { echo "cannot build the sample"; exit 1; }
ova="$T/samples/ova2virt-sample-bios.ova"

# --- no daemon ------------------------------------------------------------
sock="$T/nonexistent/libvirt-sock"
set -f  # the words of $cmd hold a '*'
for cmd in "import $ova --network=*=user" "import --dry-run $ova" \
    "export no-such-domain -o $T/x.ova"; do
    # shellcheck disable=SC2086  # the words of $cmd are meant to split
    run $cmd -c "qemu+unix:///system?socket=$sock"
    expect_rc 1 "$cmd: no daemon behind the socket"
    expect_one_line_error "$cmd: no daemon"
    expect_err_contains "qemu+unix:///system?socket=$sock" "$cmd: names the uri"
    expect_err_contains "connect socket to '$sock'" "$cmd: names the socket"
    expect_err_contains "'systemctl start libvirtd', or 'libvirtd -d'" \
        "$cmd: says how to start libvirt"
done
set +f
run import -c "qemu+unix:///session?socket=$sock" --network '*=user' "$ova"
expect_rc 1 "session: no daemon"
expect_one_line_error "session: no daemon"
expect_err_contains "'libvirtd -d' as yourself" "session: how to start it"
[ ! -e "$T/x.ova" ] || fail "export wrote something without a daemon"

# --- pools -----------------------------------------------------------------
# Named and missing: an error, and nothing made.
run import -c test:///default --pool nosuch --network '*=user' "$ova"
expect_rc 1 "--pool naming no pool"
expect_one_line_error "--pool naming no pool"
expect_err_contains "pool 'nosuch'" "names the pool"
case "$err" in *created*) fail "--pool nosuch: $err" ;; esac
# Not named: the test driver is no qemu driver, so no `default` is made
# for it; the error says what to do.
run import -c test:///default --network '*=user' "$ova"
expect_rc 1 "no default pool on the test driver"
expect_one_line_error "no default pool on the test driver"
expect_err_contains "name one with --pool" "says what to do"
run import -c test:///default --dry-run --network '*=user' "$ova"
expect_rc 1 "no default pool on the test driver, dry run"

finish
