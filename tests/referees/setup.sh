# Builds the referees (COT, govc, vcsim) for referee.exports, with the
# shared setup script: tests/referees/setup.sh REFEREES-SRC DIR.
# Exit 77 (skipped) when the sources are not there or, not being root, the
# Debian packages they need cannot be installed; CI (scripts/test-all)
# counts a skip as a failure.
set -u
src=${1:-}
dir=${2:?usage: setup.sh REFEREES-SRC DIR}
if [ -z "$src" ] || [ ! -x "$src/setup" ]; then
    echo "referees: no setup script in '$src' (set OVA2VIRT_REFEREES_SRC to ../shared/referees)" >&2
    exit 77
fi
mkdir -p "$dir"
# The shared script changes directory before it uses DIR: give it an
# absolute path.
dir=$(cd "$dir" && pwd)
if "$src/setup" "$dir"; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "referees: setup failed (not root: it may need apt-get for its Debian packages)" >&2
    exit 77
fi
exit 1
