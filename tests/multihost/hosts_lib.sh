# Libvirt "hosts" for multi-host tests, each in its own network, mount, UTS
# and PID namespaces on this machine. Sourced (POSIX sh):
#
#   . tests/multihost/hosts_lib.sh
#   mh_init                 # work dir, subnet, CA + certificates, ssh keys
#   mh_start_host 1 ...     # netns + veth, private dirs, virtlogd, libvirtd, sshd
#   mh_uri 1 tls|ssh|tcp    # how the client reaches it
#   mh_virsh 1 list --all   # virsh over TLS
#   mh_kill_libvirtd 2      # SIGKILL the host's libvirtd (a host crash)
#   mh_restart_libvirtd 2
#   mh_teardown             # everything, by pid; also run by the EXIT trap
#
# Each host N gets:
# - a network namespace o2v-mh-S-N with one end of a veth pair, address
#   10.231.S.N/24 (S picked so that no address or route of this machine is in
#   10.231.S.0/24); the other end stays in the root namespace with
#   10.231.S.254/32 and a host route to 10.231.S.N. Nothing is routed to or
#   from anywhere else, and the hosts cannot reach each other.
# - a mount namespace in which /etc/libvirt, /var/lib/libvirt,
#   /var/cache/libvirt and /var/log/libvirt are bind mounts of
#   $MH_WORK/hN/{etc,lib,cache,log} and /run is a fresh tmpfs. Its `default`
#   pool is /var/lib/libvirt/images *in that namespace*: the client never
#   sees the path, so volumes only arrive through upload/download streams.
# - a UTS namespace (hostname mhostN) and a PID namespace whose init is a
#   small reaper; the daemons are started into it with nsenter.
# - virtlogd, libvirtd (--listen: TLS on 16514, plain TCP on 16509, the
#   unix socket in its /run) and an sshd on port 22 with its own host key,
#   PidFile and config, accepting only the test's client key.
#
# Client side, nothing outside $MH_WORK is written: TLS uses the URI's
# pkipath= ($MH_WORK/pki/client holds cacert.pem, clientcert.pem,
# clientkey.pem, made here with openssl); SSH uses keyfile= and the `ssh` in
# $MH_WORK/bin (put first on PATH by mh_init), which runs the real ssh with
# -F $MH_WORK/ssh/config: the hosts' keys in a known_hosts file of the test,
# strict checking, no agent, nothing from ~/.ssh or /etc/ssh. On the far
# side libvirt runs virt-ssh-helper.
#
# Needs root, ip (iproute2), unshare and nsenter (util-linux), openssl,
# sshd and ssh (openssh-server), libvirtd and virtlogd. mh_check_tools says
# what is missing.

MH_HOSTS=""

mh_log() { echo "multihost: $*" >&2; }

mh_check_tools() {
    [ "$(id -u)" = 0 ] || { echo "needs root"; return 1; }
    for _t in ip unshare nsenter openssl ssh ssh-keygen virsh qemu-img \
        python3 /usr/sbin/sshd /usr/sbin/libvirtd /usr/sbin/virtlogd; do
        command -v "$_t" >/dev/null 2>&1 || { echo "$_t is not installed"; return 1; }
    done
    command -v virt-ssh-helper >/dev/null 2>&1 ||
        { echo "virt-ssh-helper is not installed"; return 1; }
    id libvirt-qemu >/dev/null 2>&1 ||
        { echo "no libvirt-qemu user (libvirt-daemon-system)"; return 1; }
    unshare -m -u -p -f --propagation private true 2>/dev/null ||
        { echo "namespaces are not available here"; return 1; }
    return 0
}

# mh_init: the work dir, a free /24, the PKI and the ssh client set-up.
mh_init() {
    MH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/ova2virt-mh-XXXXXX") || return 1
    chmod 0755 "$MH_WORK"
    trap mh_teardown EXIT
    trap 'exit 130' INT TERM
    # A subnet nobody on this machine uses (another test may run beside us).
    _s=$(( ($$ % 200) + 20 ))
    _tries=0
    while ip -o addr show | grep -q " 10\.231\.$_s\." ||
        ip route show | grep -q "^10\.231\.$_s\." ||
        [ -e "/run/netns/o2v-mh-$_s-1" ]; do
        _s=$(( (_s + 1) % 250 + 1 ))
        _tries=$((_tries + 1))
        [ $_tries -lt 250 ] || { mh_log "no free 10.231.x.0/24"; return 1; }
    done
    MH_SUBNET=10.231.$_s
    MH_TAG=$_s
    mkdir -p "$MH_WORK/pki/client" "$MH_WORK/ssh" "$MH_WORK/bin"
    mh_make_ca || return 1
    # ssh client: a key of the test, a config that reads nothing of the
    # machine's (known hosts are the test's hosts' keys, checked strictly).
    ssh-keygen -q -t ed25519 -N '' -C ova2virt-test-client \
        -f "$MH_WORK/ssh/id_client" || return 1
    : >"$MH_WORK/ssh/known_hosts"
    cat >"$MH_WORK/ssh/config" <<EOF
Host *
  User root
  UserKnownHostsFile $MH_WORK/ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  IdentitiesOnly yes
  IdentityAgent none
  ConnectTimeout 10
  ServerAliveInterval 5
  ServerAliveCountMax 3
EOF
    cat >"$MH_WORK/bin/ssh" <<EOF
#!/bin/sh
exec $(command -v ssh) -F "$MH_WORK/ssh/config" "\$@"
EOF
    chmod 0755 "$MH_WORK/bin/ssh"
    PATH=$MH_WORK/bin:$PATH
    export PATH
    # The QEMU capability cache of the first host, given to the others
    # (the same QEMU and libvirtd on the same machine); libvirt checks it
    # and probes again whenever it finds it stale.
    mkdir -p "$MH_WORK/capscache"
}

# mh_openssl_cert NAME CN EXT: NAME.pem / NAME.key signed by the test CA.
mh_openssl_cert() {
    _d=$MH_WORK/pki
    printf '%s\n' "$3" >"$_d/$1.ext"
    openssl req -new -newkey rsa:2048 -nodes -subj "/O=ova2virt test/CN=$2" \
        -keyout "$_d/$1.key" -out "$_d/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$_d/$1.csr" -CA "$_d/ca.pem" -CAkey "$_d/ca.key" \
            -CAcreateserial -days 2 -extfile "$_d/$1.ext" \
            -out "$_d/$1.pem" 2>/dev/null
}

mh_make_ca() {
    _d=$MH_WORK/pki
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
        -subj "/O=ova2virt test/CN=ova2virt test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$_d/ca.key" -out "$_d/ca.pem" 2>/dev/null ||
        { mh_log "cannot make the CA"; return 1; }
    mh_openssl_cert client ova2virt-client "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth" || { mh_log "cannot make the client certificate"; return 1; }
    cp "$_d/ca.pem" "$_d/client/cacert.pem"
    cp "$_d/client.pem" "$_d/client/clientcert.pem"
    cp "$_d/client.key" "$_d/client/clientkey.pem"
}

mh_ns() { echo "o2v-mh-$MH_TAG-$1"; }
mh_ip() { echo "$MH_SUBNET.$1"; }

# mh_uri N tls|ssh|tcp [PATH]: the URI the client uses for host N.
mh_uri() {
    case $2 in
    tls) echo "qemu+tls://$(mh_ip "$1")/system?pkipath=$MH_WORK/pki/client" ;;
    ssh) echo "qemu+ssh://root@$(mh_ip "$1")/system?keyfile=$MH_WORK/ssh/id_client" ;;
    tcp) echo "qemu+tcp://$(mh_ip "$1")/system" ;;
    *) return 1 ;;
    esac
}

# mh_virsh N ARGS...: virsh against host N (TLS), never reading stdin.
mh_virsh() {
    _n=$1
    shift
    timeout 120 virsh -q -c "$(mh_uri "$_n" tls)" "$@" </dev/null
}

# mh_in_host N CMD...: CMD inside host N's namespaces.
mh_in_host() {
    _n=$1
    shift
    nsenter -t "$(cat "$MH_WORK/h$_n/init.pid")" -m -u -n -p -- "$@"
}

# mh_host_pids N [COMM]: the pids (as this namespace sees them) of host N's
# processes, or of those named COMM.
mh_host_pids() {
    _f=$MH_WORK/h$1/pidns
    [ -s "$_f" ] || return 0
    _ns=$(cat "$_f")
    for _p in /proc/[0-9]*; do
        [ "$(readlink "$_p/ns/pid" 2>/dev/null)" = "$_ns" ] || continue
        if [ -n "${2:-}" ]; then
            [ "$(cat "$_p/comm" 2>/dev/null)" = "$2" ] || continue
        fi
        echo "${_p#/proc/}"
    done
}

# mh_start_host N: the namespaces, the network, the daemons. Waits until
# libvirtd answers over TLS and sshd over ssh.
mh_start_host() {
    _n=$1
    _h=$MH_WORK/h$_n
    _ns=$(mh_ns "$_n")
    _ip=$(mh_ip "$_n")
    _veth=mh${MH_TAG}h$_n
    mkdir -p "$_h/etc/libvirt/pki" "$_h/lib/images" "$_h/cache/qemu" "$_h/log" "$_h/ssh"
    MH_HOSTS="$MH_HOSTS $_n"

    # Network: a namespace, a veth pair, a host route each way.
    ip netns add "$_ns" || return 1
    ip link add "$_veth" type veth peer name "${_veth}p" || return 1
    ip link set "${_veth}p" netns "$_ns" || return 1
    ip addr add "$MH_SUBNET.254/32" dev "$_veth"
    ip link set "$_veth" up
    ip route add "$_ip/32" dev "$_veth" src "$MH_SUBNET.254" || return 1
    ip -n "$_ns" addr add "$_ip/24" dev "${_veth}p"
    ip -n "$_ns" link set "${_veth}p" up
    ip -n "$_ns" link set lo up

    # TLS: the host's certificate names its address.
    mh_openssl_cert "server$_n" "$_ip" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$_ip,DNS:mhost$_n" || { mh_log "host $_n: no certificate"; return 1; }
    cp "$MH_WORK/pki/ca.pem" "$_h/etc/libvirt/pki/cacert.pem"
    cp "$MH_WORK/pki/server$_n.pem" "$_h/etc/libvirt/pki/servercert.pem"
    cp "$MH_WORK/pki/server$_n.key" "$_h/etc/libvirt/pki/serverkey.pem"
    cat >"$_h/etc/libvirt/libvirtd.conf" <<EOF
listen_tls = 1
listen_tcp = 1
listen_addr = "$_ip"
auth_tls = "none"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
key_file = "/etc/libvirt/pki/serverkey.pem"
cert_file = "/etc/libvirt/pki/servercert.pem"
ca_file = "/etc/libvirt/pki/cacert.pem"
tls_allowed_dn_list = ["O=ova2virt test,CN=ova2virt-client"]
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    # QEMU (and its capability probe) runs as root: whether the probe can
    # open /dev/kvm then does not depend on the node's mode, which other
    # tests on this machine change -- a change makes libvirt drop its
    # capability cache and probe QEMU again in the middle of an import (seen
    # here: a probe that never returned, and a define waiting on it).
    printf 'user = "root"\ngroup = "root"\n' >"$_h/etc/libvirt/qemu.conf"
    # The capability cache another host made, if any (see mh_init).
    if [ -d "$MH_WORK/capscache/capabilities" ]; then
        cp -a "$MH_WORK/capscache/capabilities" "$_h/cache/qemu/"
    fi

    # SSH: a host key, a config of its own, only the test's client key.
    ssh-keygen -q -t ed25519 -N '' -C "mhost$_n" -f "$_h/ssh/host_key" || return 1
    echo "$_ip $(cut -d' ' -f1,2 "$_h/ssh/host_key.pub")" >>"$MH_WORK/ssh/known_hosts"
    cp "$MH_WORK/ssh/id_client.pub" "$_h/ssh/authorized_keys"
    cat >"$_h/ssh/sshd_config" <<EOF
ListenAddress $_ip
Port 22
HostKey $_h/ssh/host_key
PidFile /run/sshd.pid
AuthorizedKeysFile $_h/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
LogLevel ERROR
EOF

    # The namespaces: the holder (unshare) forks the PID namespace's init,
    # which mounts the host's private view and then reaps orphans.
    # shellcheck disable=SC2016  # expanded by the inner shell
    ip netns exec "$_ns" unshare -m -u -p -f --mount-proc --propagation private \
        sh -ec '
        h=$1 n=$2
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir -p /run/sshd /run/libvirt
        mount --bind "$h/etc/libvirt" /etc/libvirt
        mount --bind "$h/lib" /var/lib/libvirt
        mount --bind "$h/cache" /var/cache/libvirt
        mount --bind "$h/log" /var/log/libvirt
        hostname "mhost$n"
        exec python3 -c "
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
"' sh "$_h" "$_n" </dev/null >"$_h/init.log" 2>&1 &
    echo $! >"$_h/holder.pid"
    # The init is the holder's only child; wait until it has mounted.
    _i=0
    while :; do
        _init=$(ps -o pid= --ppid "$(cat "$_h/holder.pid")" 2>/dev/null | tr -d ' ')
        if [ -n "$_init" ] && [ "$(cat "/proc/$_init/comm" 2>/dev/null)" = python3 ]; then
            break
        fi
        _i=$((_i + 1))
        [ $_i -lt 100 ] || { mh_log "host $_n: namespaces not set up: $(cat "$_h/init.log")"; return 1; }
        sleep 0.1
    done
    echo "$_init" >"$_h/init.pid"
    readlink "/proc/$_init/ns/pid" >"$_h/pidns"

    mh_in_host "$_n" /usr/sbin/virtlogd -d || { mh_log "host $_n: virtlogd did not start"; return 1; }
    mh_start_libvirtd "$_n" || return 1
    mh_in_host "$_n" /usr/sbin/sshd -f "$_h/ssh/sshd_config" ||
        { mh_log "host $_n: sshd did not start"; return 1; }
    _i=0
    until ssh -i "$MH_WORK/ssh/id_client" "root@$_ip" true </dev/null 2>"$_h/ssh.err"; do
        _i=$((_i + 1))
        [ $_i -lt 50 ] || { mh_log "host $_n: no ssh: $(cat "$_h/ssh.err")"; return 1; }
        sleep 0.2
    done
    # Share the QEMU capability cache once a host has probed (after the
    # first connection that needed it; mh_start_libvirtd asks for it).
    if [ ! -d "$MH_WORK/capscache/capabilities" ] &&
        [ -d "$_h/cache/qemu/capabilities" ]; then
        cp -a "$_h/cache/qemu/capabilities" "$MH_WORK/capscache/"
    fi
    mh_log "host $_n: mhost$_n at $_ip (libvirtd $(mh_host_pids "$_n" libvirtd), sshd $(mh_host_pids "$_n" sshd | head -n1))"
}

# mh_start_libvirtd N: libvirtd in host N; waits until it answers over TLS,
# has its `default` pool, and has probed QEMU.
mh_start_libvirtd() {
    _n=$1
    _h=$MH_WORK/h$_n
    mh_in_host "$_n" /usr/sbin/libvirtd -d -l ||
        { mh_log "host $_n: libvirtd did not start"; return 1; }
    _i=0
    until virsh -q -c "$(mh_uri "$_n" tls)" version >/dev/null 2>"$_h/virsh.err" </dev/null; do
        _i=$((_i + 1))
        if [ $_i -gt 600 ]; then  # 120 s: driver start-up, on a loaded machine
            mh_log "host $_n: libvirtd does not answer over TLS: $(cat "$_h/virsh.err")"
            tail -n 20 "$_h/log/libvirtd.log" >&2
            return 1
        fi
        sleep 0.2
    done
    if ! mh_virsh "$_n" pool-info default >/dev/null 2>&1; then
        mh_virsh "$_n" pool-define-as default dir --target /var/lib/libvirt/images >/dev/null &&
            mh_virsh "$_n" pool-autostart default >/dev/null ||
            { mh_log "host $_n: cannot define the default pool"; return 1; }
    fi
    mh_virsh "$_n" pool-start default >/dev/null 2>&1
    # The QEMU capability probe (the expensive part of a cold start).
    timeout 180 virsh -q -c "$(mh_uri "$_n" tls)" domcapabilities --virttype qemu \
        >/dev/null </dev/null ||
        { mh_log "host $_n: no domain capabilities"; return 1; }
}

# mh_kill_libvirtd N: SIGKILL host N's libvirtd, as a crash would.
mh_kill_libvirtd() {
    for _p in $(mh_host_pids "$1" libvirtd); do kill -9 "$_p"; done
    _i=0
    while [ -n "$(mh_host_pids "$1" libvirtd)" ] && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
}

# mh_restart_libvirtd N: start it again after mh_kill_libvirtd (its stale
# pid file and sockets in the host's /run are removed first).
mh_restart_libvirtd() {
    mh_in_host "$1" sh -c 'rm -f /run/libvirtd.pid /run/libvirt/libvirt-sock /run/libvirt/libvirt-sock-ro /run/libvirt/libvirt-admin-sock'
    mh_start_libvirtd "$1"
}

# mh_stop_host N: domains destroyed, daemons stopped, namespaces and veth
# removed. Everything by pid or by the names this test made.
mh_stop_host() {
    _n=$1
    _h=$MH_WORK/h$_n
    if [ -n "$(mh_host_pids "$_n" libvirtd)" ]; then
        for _d in $(mh_virsh "$_n" list --name 2>/dev/null); do
            mh_virsh "$_n" destroy "$_d" >/dev/null 2>&1
        done
    fi
    for _c in sshd libvirtd virtlogd; do
        for _p in $(mh_host_pids "$_n" "$_c"); do kill "$_p" 2>/dev/null; done
    done
    _i=0
    while [ -n "$(mh_host_pids "$_n" libvirtd)" ] && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    # The init last: the kernel then kills whatever is left in the PID
    # namespace (a QEMU, a session), and the mount namespace goes with it.
    [ -s "$_h/init.pid" ] && kill -9 "$(cat "$_h/init.pid")" 2>/dev/null
    if [ -s "$_h/holder.pid" ]; then
        _i=0
        while kill -0 "$(cat "$_h/holder.pid")" 2>/dev/null && [ $_i -lt 50 ]; do
            sleep 0.1
            _i=$((_i + 1))
        done
        kill -9 "$(cat "$_h/holder.pid")" 2>/dev/null
    fi
    ip link del "mh${MH_TAG}h$_n" 2>/dev/null
    ip netns del "$(mh_ns "$_n")" 2>/dev/null
    rm -f "$_h/init.pid" "$_h/holder.pid" "$_h/pidns"
}

# mh_make_appliance SAMPLES SRC DIR NAME DATA_MIB: DIR/NAME.ova, a two-disk
# appliance packed the way ovftool packs one: the BIOS sample's boot disk
# and a DATA_MIB MiB data disk (DIR/NAME.data.raw, its raw image) with
# pseudo-random data in a third of it, spread through the disk.
mh_make_appliance() {
    _dir=$3/$4.parts
    mkdir -p "$_dir"
    python3 - "$3/$4.data.raw" "$5" <<'PY' || return 1
import random, sys
size = int(sys.argv[2]) << 20
rnd = random.Random(15)
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    for i in range(0, size, 3 << 20):
        f.seek(i + rnd.randrange(2 << 20))
        f.write(rnd.randbytes(1 << 20))
PY
    cp "$1/ova2virt-sample-bios/ova2virt-sample-bios-disk1.vmdk" "$_dir/$4-disk1.vmdk"
    python3 "$2/tests/tools/vmdk_stream.py" "$3/$4.data.raw" "$_dir/$4-disk2.vmdk" \
        >/dev/null || return 1
    python3 "$2/tests/tools/ovf_write.py" "$_dir/$4.ovf" --name "$4" \
        --disk "$4-disk1.vmdk:$(stat -c %s "$_dir/$4-disk1.vmdk"):$((64 << 20))" \
        --disk "$4-disk2.vmdk:$(stat -c %s "$_dir/$4-disk2.vmdk"):$(($5 << 20))" ||
        return 1
    python3 "$2/tests/tools/ova_pack.py" "$3/$4.ova" "$_dir/$4.ovf" \
        "$_dir/$4-disk1.vmdk" "$_dir/$4-disk2.vmdk" >/dev/null || return 1
    rm -rf "$_dir"
}

# mh_cpu N: CPU seconds used so far by host N's processes (user + system,
# with their reaped children's).
mh_cpu() {
    for _p in $(mh_host_pids "$1"); do
        awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$_p/stat" 2>/dev/null
    done | awk -v hz="$(getconf CLK_TCK)" '{ t += $1 } END { printf "%.2f\n", t / hz }'
}

# mh_stop_all: every host started so far.
mh_stop_all() {
    for _n in $MH_HOSTS; do mh_stop_host "$_n"; done
    MH_HOSTS=""
}

# mh_teardown (the EXIT trap mh_init sets): every host, then the work dir
# (kept with MH_KEEP=1); exits with the script's status.
mh_teardown() {
    _rc=$?
    trap - EXIT
    mh_stop_all
    if [ -n "${MH_WORK:-}" ] && [ -d "$MH_WORK" ]; then
        if [ "${MH_KEEP:-0}" = 1 ]; then
            mh_log "kept $MH_WORK"
        else
            rm -rf "$MH_WORK"
        fi
    fi
    exit $_rc
}
