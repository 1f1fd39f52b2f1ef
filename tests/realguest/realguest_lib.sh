# Shared by the real-guest tests (sourced). The appliance is the Debian 12
# guest that samples/linux/build-linux-appliance builds (the realguest.build
# fixture); cloud-init's OVF datasource reads the properties that the tests
# give with --prop from the ovf-env.xml CD.
: "${OVA2VIRT:?}" "${APPLIANCE:?}"
failures=${failures:-0}
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
here=$(cd "$(dirname "$0")" && pwd)

# user_data: the base64 cloud-config every test passes as --prop user-data.
# It installs a per-boot script, so the marker and the power-off come on
# every boot (a re-imported disk boots a second time: cloud-init's
# per-instance modules, runcmd and power_state among them, would not run
# again); update_hostname runs on every boot too, so the marker shows the
# hostname given to *this* import.
user_data() {
    base64 -w0 <<'CFG'
#cloud-config
write_files:
  - path: /var/lib/cloud/scripts/per-boot/ova2virt-marker
    permissions: '0755'
    content: |
      #!/bin/sh
      echo "OVA2VIRT-LINUX-OK hostname=$(hostname)" >/dev/ttyS0
      systemctl --no-block poweroff
CFG
}

# expect_marker FILE HOSTNAME
expect_marker() {
    grep -a -q "OVA2VIRT-LINUX-OK hostname=$2\b" "$1" ||
        fail "no marker with hostname '$2' on the console: $(tail -c 800 "$1" | tr -d '\r')"
}

# record_time NAME FIRST_BYTE_S POWER_OFF_S: the figures for
# docs/performance.md, one line a boot, in the build directory.
record_time() {
    echo "$1 first_byte=$2 power_off=$3" >>"${TIMES:-/dev/null}"
    echo "boot time: $1: first console byte after $2 s, powered off after $3 s"
}
