# The man page and the bash completion keep up with the command: every
# subcommand and every long option the command table has is in the man
# page; completion offers them; libvirt names complete from the host.
. "$SRC/tests/cli/lib.sh"

man="$SRC/docs/ova2virt.1"
commands=$("$OVA2VIRT" complete commands)
[ -n "$commands" ] || fail "no subcommands listed"
for c in $commands; do
    checks=$((checks + 1))
    grep -q "^\.SS $c\$" "$man" || fail "man page has no section for '$c'"
    for o in $("$OVA2VIRT" complete options "$c" | grep '^--'); do
        checks=$((checks + 1))
        # roff escapes '-' as '\-'
        esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        grep -q -- "$esc" "$man" || fail "man page lacks '$c $o'"
    done
done
groff -man -Tutf8 -ww "$man" >/dev/null 2>"$T/groff.err" || true
[ -s "$T/groff.err" ] && fail "groff warnings: $(cat "$T/groff.err")"
checks=$((checks + 1))

# Completion: a bash that sources the script completes subcommands,
# options and libvirt names (the helper functions come from
# bash-completion; stub what the script needs when it is not installed).
cat >"$T/complete.sh" <<SH
[ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
ova2virt() { "$OVA2VIRT" "\$@"; }
. "$SRC/completion/ova2virt.bash"
complete_line() {
    COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMP_LINE="\$*"; COMP_POINT=\${#COMP_LINE}
    _ova2virt
    printf '%s\n' "\${COMPREPLY[@]}"
}
complete_line ova2virt im > "$T/c1"
complete_line ova2virt import --dis > "$T/c2"
complete_line ova2virt import -c test:///default --pool de > "$T/c3"
complete_line ova2virt import -c test:///default --network lan= > "$T/c4"
SH
if [ -f /usr/share/bash-completion/bash_completion ]; then
    bash "$T/complete.sh" 2>"$T/complete.err"
    grep -qx import "$T/c1" || fail "completes 'im' to import: $(cat "$T/c1" "$T/complete.err")"
    grep -qx -- --disk-bus "$T/c2" || fail "completes --dis: $(cat "$T/c2")"
    grep -qx default-pool "$T/c3" || fail "completes pools: $(cat "$T/c3")"
    grep -qx "lan=default" "$T/c4" && grep -qx "lan=user" "$T/c4" || fail "completes network values: $(cat "$T/c4")"
    checks=$((checks + 4))
else
    echo "bash-completion is not installed: completion not exercised"
fi

run complete -c test:///default domains
expect_rc 0 "complete domains"
expect_out_contains "test" "the test driver's domain"
run complete nonsense
expect_rc 2 "complete of an unknown kind"
finish
