#!/bin/sh
# Runs ova2virt's integration tests against real libvirt and QEMU.
#
#   run_integration.sh daemon   TEST_BINARY [doctest options]
#   run_integration.sh embedded TEST_BINARY [doctest options]
#
# daemon: starts a private libvirtd (the system instance, as root) in its
# own mount namespace, so its /etc/libvirt, /run, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt are directories of this test and
# nothing of the host's (or another test's) libvirt is touched. Its sockets
# live in the test directory; the test binary connects with
# qemu+unix:///system?socket=... No systemd and no virtlogd
# (stdio_handler = "file"). At the end, even on failure, running domains
# are destroyed, the daemon is stopped by its pid, and any process that
# still sees its private /var/lib/libvirt (a QEMU) is killed by pid.
#
# embedded: runs the embedded-driver tests (qemu:///embed, no daemon).
#
# Exit 77 (ctest SKIP_RETURN_CODE) only where the tests truly cannot run:
# not root, or libvirtd/QEMU/unshare missing, or mount namespaces refused.
set -u

mode=${1:?usage: run_integration.sh daemon|embedded TEST_BINARY [args]}
bin=${2:?usage: run_integration.sh daemon|embedded TEST_BINARY [args]}
shift 2

skip() {
  echo "SKIP: $*"
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (the qemu driver's system instance)"
for tool in qemu-system-x86_64 unshare mount; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
id libvirt-qemu >/dev/null 2>&1 || skip "no libvirt-qemu user (libvirt-daemon-system)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ova2virt-it-XXXXXX") || exit 1
# QEMU runs as libvirt-qemu and must reach files under here.
chmod 0755 "$work"
export OVA2VIRT_TEST_DIR="$work/files"
# Import journals stay in the test, not in /var/lib/ova2virt.
export OVA2VIRT_STATE_DIR="$work/state"
mkdir -p "$OVA2VIRT_TEST_DIR"
chmod 0755 "$OVA2VIRT_TEST_DIR"

if [ "$mode" = embedded ]; then
  timeout --kill-after=10 "${OVA2VIRT_IT_TIMEOUT:-240}" "$bin" "$@"
  rc=$?
  rm -rf "$work"
  exit $rc
fi
[ "$mode" = daemon ] || { echo "unknown mode '$mode'" >&2; exit 2; }

libvirtd=/usr/sbin/libvirtd
[ -x "$libvirtd" ] || libvirtd=$(command -v libvirtd) || skip "libvirtd is not installed"
command -v virsh >/dev/null 2>&1 || skip "virsh is not installed"
unshare -m --propagation private true 2>/dev/null ||
  skip "mount namespaces are not available here"

uri="qemu+unix:///system?socket=$work/sock/libvirt-sock"
pidfile="$work/libvirtd.pid"

# shellcheck disable=SC2317  # called from the trap
cleanup() {
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    # Domains first: QEMU outlives a stopped daemon.
    for dom in $(virsh -q -c "$uri" list --name 2>/dev/null); do
      virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1
    done
    kill "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
  fi
  # Whatever still sees this test's /var/lib/libvirt was started by its
  # daemon (a QEMU, in the daemon's namespace or in the one libvirt made for
  # it; or a daemon a test restarted). Not the namespace's inode number: the
  # kernel reuses it once the namespace is freed, and a stress test's killed
  # daemon left a number that another test's fresh libvirtd or an embedded
  # QEMU then got -- this cleanup killed them (CI, stop 12).
  for p in /proc/[0-9]*; do
    if grep -qF "$(basename "$work")/lib /var/lib/libvirt " "$p/mountinfo" 2>/dev/null; then
      kill -9 "${p#/proc/}" 2>/dev/null
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/etc/libvirt" "$work/sock" "$work/lib" "$work/cache" "$work/log"
cat >"$work/etc/libvirt/libvirtd.conf" <<EOF
unix_sock_dir = "$work/sock"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$work/log/libvirtd.log"
EOF
cat >"$work/etc/libvirt/qemu.conf" <<EOF
stdio_handler = "file"
EOF
# Where only root may open /dev/kvm (mode 0600, as on these machines),
# QEMU as libvirt-qemu cannot use it, while libvirt's capability probe saw
# KVM: libvirt then finds its cache stale and re-probes QEMU (4 s) on
# every call. Run QEMU as root there -- unless the test is about what the
# QEMU user may reach (OVA2VIRT_TEST_QEMU_USER=keep): then the daemon's
# namespace gets its own node of the same device that group kvm may open,
# over /dev/kvm, and QEMU stays libvirt-qemu.
kvm_node=""
if [ -e /dev/kvm ] && [ "$(stat -c %a /dev/kvm)" = 600 ]; then
  if [ "${OVA2VIRT_TEST_QEMU_USER:-}" = keep ] &&
    mknod "$work/kvm" c "$((0x$(stat -c %t /dev/kvm)))" "$((0x$(stat -c %T /dev/kvm)))" &&
    chgrp kvm "$work/kvm" && chmod 0660 "$work/kvm"; then
    kvm_node="$work/kvm"
  else
    printf 'user = "root"\ngroup = "root"\n' >>"$work/etc/libvirt/qemu.conf"
  fi
fi

# The daemon's private view of the file system, then the daemon itself
# (-d: it forks, writes its pid file and keeps the namespace alive). A test
# that kills the daemon restarts it with the same command
# ($OVA2VIRT_TEST_RESTART, below).
# shellcheck disable=SC2016  # expanded by the inner shell
unshare -m --propagation private sh -ec '
  w=$1
  mount -t tmpfs tmpfs /run
  mount --bind "$w/etc/libvirt" /etc/libvirt
  mount --bind "$w/lib" /var/lib/libvirt
  mount --bind "$w/cache" /var/cache/libvirt
  mount --bind "$w/log" /var/log/libvirt
  [ -z "$3" ] || mount --bind "$3" /dev/kvm
  exec "$2" -d -f "$w/etc/libvirt/libvirtd.conf" -p "$w/libvirtd.pid"
' sh "$work" "$libvirtd" "$kvm_node" || { echo "libvirtd did not start" >&2; exit 1; }

i=0
while [ ! -S "$work/sock/libvirt-sock" ] || [ ! -s "$pidfile" ]; do
  i=$((i + 1))
  if [ $i -gt 300 ]; then
    echo "libvirtd made no socket in 30 s" >&2
    tail -n 20 "$work/log/libvirtd.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "libvirtd $(cat "$pidfile") at $uri"

# Bounded below ctest's TIMEOUT, so this script always gets to clean up
# (OVA2VIRT_IT_TIMEOUT: tests that boot real guests need longer).
export OVA2VIRT_TEST_RESTART="$work/restart-daemon.sh"
# A restarted daemon's namespace is another: cleanup() finds its pid in the
# pid file (and a test that restarts the daemon starts no domains).
cat >"$OVA2VIRT_TEST_RESTART" <<EOF
#!/bin/sh
rm -f "$pidfile"
exec unshare -m --propagation private sh -ec '
  w=\$1
  mount -t tmpfs tmpfs /run
  mount --bind "\$w/etc/libvirt" /etc/libvirt
  mount --bind "\$w/lib" /var/lib/libvirt
  mount --bind "\$w/cache" /var/cache/libvirt
  mount --bind "\$w/log" /var/log/libvirt
  exec "\$2" -d -f "\$w/etc/libvirt/libvirtd.conf" -p "\$w/libvirtd.pid"
' sh "$work" "$libvirtd"
EOF
chmod +x "$OVA2VIRT_TEST_RESTART"
export OVA2VIRT_TEST_PIDFILE="$pidfile"
OVA2VIRT_TEST_URI="$uri" timeout --kill-after=10 "${OVA2VIRT_IT_TIMEOUT:-240}" "$bin" "$@"
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- libvirtd log (errors) ---"
  grep -v 'dnsmasq\|GDBus\|DBus\|DMI\|dmidecode' "$work/log/libvirtd.log" | tail -n 30
  for f in "$work"/log/qemu/*.log; do
    [ -f "$f" ] && { echo "--- $f ---"; tail -n 10 "$f"; }
  done
fi
exit $rc
