# The command-line contract that every subcommand shares (CLI.md).
. "$SRC/tests/cli/lib.sh"

run --version
expect_rc 0 "--version"
expect_out_contains "ova2virt " "--version prints the version"

run
expect_rc 2 "no subcommand is a usage error"
expect_one_line_error "no subcommand"

run --no-such-option
expect_rc 2 "unknown option is a usage error"

finish
