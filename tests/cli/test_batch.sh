# ova2virt batch against libvirt's test driver (no daemon): plans and their
# errors, items that land or leave nothing, the state file, item lines,
# JSON, dry runs, the plan lock and Ctrl-C; export items beside imports,
# judged by `ova2virt verify` and qemu-img, skipped on re-runs while their
# outputs stand. The test driver forgets the domains it defines when a
# connection closes, so re-runs that skip imports are shown against a real
# libvirtd in tests/integration/batch_daemon.sh; domains in a node file
# (test:///PATH) are there on every connection, so exports of them can be
# re-run here.
. "$SRC/tests/cli/lib.sh"

cd "$T" || exit 1
C="$CORPUS/ova"
mkdir -p out plans

nothing_left() {  # nothing_left DIR DESCRIPTION: no temporary file in DIR
    checks=$((checks + 1))
    if find "$1" -name '*ova2virt-tmp*' | grep -q .; then
        fail "$2: temporary files left: $(find "$1" -name '*ova2virt-tmp*')"
    fi
}
# item_field ID EXPR: EXPR on the item with that id in the last JSON output.
item_field() {
    json_get "[i for i in d['items'] if i['id'] == '$1'][0]$2"
}

# --- usage and plan errors ----------------------------------------------
run batch
expect_rc 2 "no plan"
run batch --jobs 0 plans/none.json
expect_rc 2 "--jobs 0"
run batch --jobs 65 plans/none.json
expect_rc 2 "--jobs 65"
run batch plans/none.json
expect_rc 1 "a missing plan"
expect_one_line_error "a missing plan"
expect_err_contains "plans/none.json" "the missing plan is named"

printf '{"items": [{"input": "a.ova", "nmae": "web"}]}' >plans/typo.json
run batch plans/typo.json
expect_rc 2 "a misspelt key"
expect_one_line_error "a misspelt key"
expect_err_contains "plans/typo.json: item 1: unknown key 'nmae' (did you mean 'name'?)" \
    "the misspelt key is named with its item"
run batch --json plans/typo.json
expect_rc 2 "a misspelt key, --json"
[ "$(json_get "d['error']['code']")" = usage ] || fail "--json error code"

printf '{"items": [{"kind": "export", "domain": "web", "ovf_verison": 2}]}' \
    >plans/export.json
run batch plans/export.json
expect_rc 2 "a misspelt export key"
expect_err_contains "plans/export.json: item 1 ('web'): unknown key 'ovf_verison' (did you mean 'ovf_version'?)" \
    "the misspelt export key is named with its item"
printf '{"items": [{"kind": "export", "domain": "web", "pool": "vms"}]}' \
    >plans/export.json
run batch plans/export.json
expect_rc 2 "an import key in an export item"
expect_err_contains "item 1 ('web'): key 'pool' belongs to import items" \
    "an import key in an export item"

printf '{"items": [\n {"input": "a.ova",}\n]}' >plans/syntax.json
run batch plans/syntax.json
expect_rc 2 "not json"
expect_err_contains "plans/syntax.json: not json: line 2, column 20" \
    "syntax errors say where"

# --- a plan with a broken package among good ones -----------------------
# Relative paths are relative to the plan's folder, not the working one.
ln -s "$C" plans/corpus
cat >plans/fleet.json <<'EOF'
{
  "version": 1,
  "defaults": {"connect": "test:///default", "storage_dir": "../out",
               "networks": {"*": "user"}},
  "items": [
    {"input": "corpus/vboxvk_tdAppliance1-t2.ova", "name": "vbox2"},
    {"input": "corpus/glance_testserver-no-disk.ova", "name": "broken"},
    {"input": "corpus/vboxvk_tdAppliance1-t4.ova", "name": "vbox4",
     "format": "raw"},
    {"input": "corpus/ganeti_ova.ova", "name": "ganeti"}
  ]
}
EOF

# A dry run checks and decides, and writes nothing at all. It checks each
# package as the import would but for the disk bytes, so the package whose
# disk is missing fails already, as `import --dry-run` does (issue 13.3).
run batch --dry-run --json plans/fleet.json
expect_rc 1 "dry run"
[ "$(json_get "[i['status'] for i in d['items']]")" = \
    "['would-run', 'failed', 'would-run', 'would-run']" ] ||
    fail "dry run statuses: $out"
item_field broken "['error']['message']" |
    grep -q "member 'testserver-disk1.vmdk' is referenced by the descriptor but missing" ||
    fail "dry run: the missing disk is named: $(item_field broken "['error']")"
[ "$(item_field vbox2 "['plan'] != ''")" = True ] || fail "dry run: the plan"
[ -z "$(ls out)" ] || fail "dry run wrote $(ls out)"
[ ! -e plans/fleet.state.json ] || fail "dry run wrote the state"

run batch --jobs 2 --json plans/fleet.json
expect_rc 1 "one item failed"
for id in vbox2 vbox4 ganeti; do
    [ "$(item_field "$id" "['status']")" = "done" ] || fail "$id: not done: $out"
    [ "$(item_field "$id" "['reason']")" = new ] || fail "$id: reason"
    [ "$(item_field "$id" "['error']")" = None ] || fail "$id: error"
    [ "$(json_get "[i['warnings_count'] == len(i['warnings']) > 0 for i in d['items'] if i['id'] == '$id'][0]")" = True ] ||
        fail "$id: warnings"
done
[ "$(item_field broken "['status']")" = failed ] || fail "broken: $out"
[ "$(item_field broken "['error']['exit_code']")" = 3 ] ||
    fail "broken: its error is corrupt (3): $out"
item_field broken "['error']['message']" | grep -q "glance_testserver-no-disk.ova: member 'testserver-disk1.vmdk'" ||
    fail "broken: the error names the package and member"
[ "$(json_get "d['summary']")" = "{'abandoned': 0, 'done': 3, 'failed': 1, 'interrupted': False, 'not_started': 0, 'ok': False, 'seconds': $(json_get "d['summary']['seconds']"), 'skipped': 0, 'total': 4, 'would_run': 0, 'would_skip': 0}" ] ||
    fail "summary: $(json_get "d['summary']")"
[ "$(json_get "d['state_file']")" = "plans/fleet.state.json" ] || fail "state_file"
# The good ones landed; the broken one left nothing.
for f in vbox2-disk1.qcow2 vbox4-disk1.raw vbox4-disk2.raw ganeti-disk1.qcow2; do
    [ -f "out/$f" ] || fail "missing out/$f"
done
qemu-img check -q out/vbox2-disk1.qcow2 || fail "qemu-img check vbox2"
qemu-img check -q out/ganeti-disk1.qcow2 || fail "qemu-img check ganeti"
ls out | grep -q broken && fail "the broken item left $(ls out | grep broken)"
nothing_left out "after the batch"
# The state records each item.
python3 - plans/fleet.state.json <<'EOF' || fail "state file"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["ova2virt_batch_state"] == 1
items = s["items"]
assert sorted(items) == ["broken", "ganeti", "vbox2", "vbox4"], items
assert items["broken"]["status"] == "failed"
assert "testserver-disk1.vmdk" in items["broken"]["error"]
for k in ("vbox2", "vbox4", "ganeti"):
    assert items[k]["status"] == "done", k
    assert items[k]["error"] is None
    assert items[k]["domains"] == [k]
    assert len(items[k]["source"]["digest"]) == 64
assert items["vbox2"]["source"]["pinned_by_manifest"] is True
# ganeti's package has no manifest: its size and mtime pin it.
assert items["ganeti"]["source"]["pinned_by_manifest"] is False
assert [v["name"] for v in items["vbox4"]["volumes"]] == ["vbox4-disk1.raw", "vbox4-disk2.raw"]
EOF

# The item lines: one start and one finish each, on stderr; a table on
# stdout without --json.
rm -rf out/* plans/fleet.state.json
run batch --jobs 2 plans/fleet.json
expect_rc 1 "text run"
for n in 1 2 3 4; do
    c=$(printf '%s\n' "$err" | grep -c "^\[$n/4\] ")
    [ "$c" -eq 2 ] || fail "item $n: $c lines, expected start and finish: $err"
done
expect_err_contains "[2/4] 'broken': failed in " "the failure line"
expect_err_contains "ova2virt: warning: policy." "item warnings are shown"
expect_out_contains "4 items: 3 done, 1 failed in " "the summary line"
printf '%s\n' "$out" | grep -q "^broken  *failed " || fail "table: $out"
run batch -q --jobs 2 --state "$T/elsewhere.json" plans/fleet.json
[ -z "$err" ] || fail "-q: stderr: $err"
[ -f "$T/elsewhere.json" ] || fail "--state: no state file there"

# --- a re-run on a host that lost the domains ---------------------------
# The test driver forgets its domains: the done items' targets are gone, so
# they run again -- and refuse to overwrite their disks without "force".
rm -rf out/* plans/fleet.state.json
run batch -q plans/fleet.json
stat -c '%i %Y' out/vbox2-disk1.qcow2 >before
run batch -q --json plans/fleet.json
expect_rc 1 "re-run against a host that lost the domains"
[ "$(item_field vbox2 "['reason']")" = "target changed" ] || fail "reason: $out"
item_field vbox2 "['error']['message']" | grep -q "already exists" ||
    fail "an existing disk is not overwritten: $out"
[ "$(item_field broken "['reason']")" = "failed before" ] || fail "broken retried"
stat -c '%i %Y' out/vbox2-disk1.qcow2 | cmp -s - before ||
    fail "vbox2's disk was touched"
# "force": true does not count as a change of settings, but replaces.
sed 's/"storage_dir": "..\/out",/"storage_dir": "..\/out", "force": true,/' \
    plans/fleet.json >plans/forced.json
cp plans/fleet.state.json plans/forced.state.json
run batch -q --json plans/forced.json
[ "$(item_field vbox2 "['status']")" = "done" ] || fail "force: $out"
[ "$(item_field vbox2 "['reason']")" = "failed before" ] || fail "force reason: $out"

# --- the state file -----------------------------------------------------
echo garbage >plans/fleet.state.json
run batch plans/fleet.json
expect_rc 3 "a damaged state file"
expect_err_contains "plans/fleet.state.json: not a state file ova2virt wrote" \
    "the damaged state is named"
rm plans/fleet.state.json
# A state file that cannot be written stops the batch before any import.
rm -rf out/*
run batch --state "$T/no/such/dir/state.json" plans/fleet.json
expect_rc 1 "an unwritable state file"
expect_one_line_error "an unwritable state file"
expect_err_contains "$T/no/such/dir" "the state file is named"
[ -z "$(ls out)" ] || fail "items ran without a state: $(ls out)"

# --- one run of a plan at a time ----------------------------------------
# One process holds the lock (so that killing it by pid releases it).
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)
' plans/fleet.json "$T/locked" &
holder=$!
i=0
while [ ! -e "$T/locked" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
run batch plans/fleet.json
expect_rc 1 "a plan being run"
expect_err_contains "another 'ova2virt batch' is running this plan" "the lock"
expect_one_line_error "the lock"
# A dry run changes nothing and does not wait for the lock.
run batch -q --json --dry-run plans/fleet.json
checks=$((checks + 1))
case "$err" in *another*) fail "a dry run took the lock: $err" ;; esac
[ "$(json_get "d['dry_run']")" = True ] || fail "the dry run ran: $out"
kill "$holder"
wait "$holder" 2>/dev/null

# --- Ctrl-C: the running item rolls back, the rest never start ----------
# A package whose copy takes a while: a 1 GiB qcow2 disk full of data.
mkdir slow
qemu-img create -q -f qcow2 slow/slow-disk1.qcow2 1G
qemu-io -f qcow2 -c 'write -P 0x5a 0 1G' slow/slow-disk1.qcow2 >/dev/null
python3 "$SRC/tests/tools/ovf_write.py" slow/slow.ovf --name slow \
    --disk "slow-disk1.qcow2:$(stat -c %s slow/slow-disk1.qcow2):1073741824"
# (the descriptor must say qcow2: a file that is not what it claims is
# corrupt)
sed -i 's|ovf:format="[^"]*"|ovf:format="http://www.gnome.org/~markmc/qcow-image-format.html"|' \
    slow/slow.ovf
python3 "$SRC/tests/tools/ova_pack.py" slow/slow.ova slow/slow.ovf \
    slow/slow-disk1.qcow2
rm slow/slow-disk1.qcow2
cat >plans/interrupt.json <<EOF
{"defaults": {"connect": "test:///default", "storage_dir": "$T/int",
              "networks": {"*": "user"}, "threads": 1},
 "items": [
   {"input": "$C/vboxvk_tdAppliance1-t2.ova", "name": "first"},
   {"input": "$T/slow/slow.ova", "name": "slow"},
   {"input": "$C/ganeti_ova.ova", "name": "never"}]}
EOF
mkdir int
"$OVA2VIRT" batch --json plans/interrupt.json >"$T/.out" 2>"$T/.err" &
pid=$!
i=0
while ! ls -a int | grep -q "slow-disk1.*ova2virt-tmp" && [ $i -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -INT "$pid"
wait "$pid"
rc=$?
out=$(cat "$T/.out")
err=$(cat "$T/.err")
checks=$((checks + 1))
[ $rc -eq 1 ] || fail "interrupted batch: exit $rc, expected 1 (never a signal): $err"
[ "$(item_field first "['status']")" = "done" ] || fail "interrupt: first: $out"
[ "$(item_field slow "['status']")" = failed ] || fail "interrupt: slow: $out"
[ "$(item_field slow "['error']['code']")" = cancelled ] || fail "interrupt: code"
[ "$(item_field never "['status']")" = not-started ] || fail "interrupt: never"
[ "$(json_get "d['summary']['interrupted']")" = True ] || fail "interrupted flag"
[ "$(ls int)" = "first-disk1.qcow2" ] || fail "interrupt left: $(ls -a int)"
nothing_left int "after the interrupt"
python3 -c "
import json; s = json.load(open('plans/interrupt.state.json'))['items']
assert sorted(s) == ['first', 'slow'], s
assert s['first']['status'] == 'done' and s['slow']['status'] == 'failed'
" || fail "the state after the interrupt"

# --- exports beside imports ----------------------------------------------
# Domains in a node file, each with a UUID so that its XML is the same on
# every connection (the test driver reads the file anew each time).
img="$T/img"
mkdir -p "$img" exp out2
qemu-img create -q -f qcow2 "$img/web.qcow2" 32M
qemu-io -c 'write -P 0x11 0 1M' -c 'write -P 0x22 20M 1M' "$img/web.qcow2" >/dev/null
qemu-img create -q -f raw "$img/db.raw" 8M
qemu-io -f raw -c 'write -P 0x33 1M 2M' "$img/db.raw" >/dev/null
export_domain() { # NAME UUID DISK FORMAT
    echo "<domain type='test'><name>$1</name><uuid>$2</uuid><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
    echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
    echo "<disk type='file' device='disk'><driver name='qemu' type='$4'/><source file='$3'/><target dev='sda' bus='sata'/></disk>"
    echo "<interface type='network'><mac address='52:54:00:00:07:01'/><source network='default'/><model type='e1000'/></interface>"
    echo "</devices><test:runstate>5</test:runstate></domain>"
}
{
    echo "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    export_domain web 0b7b1b52-1a61-4e8c-9d4a-4d5f0a6f7e01 "$img/web.qcow2" qcow2
    export_domain db 0b7b1b52-1a61-4e8c-9d4a-4d5f0a6f7e02 "$img/db.raw" raw
    echo "</node>"
} >"$T/node.xml"
cat >plans/mixed.json <<EOF
{"defaults": {"connect": "test://$T/node.xml", "storage_dir": "../out2",
              "networks": {"*": "user"}, "force": true},
 "items": [
   {"kind": "export", "domain": "web", "output": "../exp/web.ova"},
   {"input": "corpus/vboxvk_tdAppliance1-t2.ova", "name": "imported"},
   {"kind": "export", "domain": "db", "ovf_dir": "../exp/db-ovf",
    "digest": "sha1"},
   {"kind": "export", "domain": "nosuch", "output": "../exp/nosuch.ova"},
   {"kind": "export", "domain": "web", "id": "web-v2",
    "output": "../exp/web-v2.ova", "ovf_version": 2}
 ]}
EOF
exports="../exp/web.ova ../exp/db-ovf web-v2"
# stamps: inode and mtime (ns) of every exported file.
stamps() { find exp -type f | sort | xargs stat -c '%n %i %.9Y'; }

run batch --jobs 2 --json plans/mixed.json
expect_rc 1 "exports and imports, one unknown domain"
for id in $exports imported; do
    [ "$(item_field "$id" "['status']") $(item_field "$id" "['reason']")" = "done new" ] ||
        fail "$id: $(item_field "$id" "")"
done
[ "$(item_field ../exp/web.ova "['kind']")" = export ] || fail "kind: $out"
[ "$(item_field ../exp/web.ova "['input']")" = None ] || fail "an export has no input"
[ "$(item_field ../exp/web.ova "['name']")" = web ] || fail "an export's name is its domain"
[ "$(item_field ../exp/web.ova "['output']")" = "$T/exp/web.ova" ] || fail "output: $out"
[ "$(item_field imported "['output']")" = None ] || fail "an import has no output"
# The unknown domain is reported and leaves nothing.
[ "$(item_field ../exp/nosuch.ova "['status']")" = failed ] || fail "nosuch: $out"
item_field ../exp/nosuch.ova "['error']['message']" | grep -q "domain 'nosuch'" ||
    fail "nosuch: the error names the domain: $out"
[ "$(item_field ../exp/nosuch.ova "['error']['exit_code']")" = 1 ] || fail "nosuch: exit code"
# Each export is a package ova2virt verify accepts, holding the disk.
for pkg in exp/web.ova exp/web-v2.ova exp/db-ovf; do
    run verify "$pkg"
    expect_rc 0 "verify $pkg"
done
run verify exp/db-ovf
expect_out_contains "(SHA1)" "the db export's manifest is SHA1"
mkdir x && tar -xf exp/web.ova -C x
checks=$((checks + 4))
qemu-img compare -q -f qcow2 -F vmdk "$img/web.qcow2" x/web-disk1.vmdk ||
    fail "the exported disk differs from the domain's"
qemu-img compare -q -f raw -F vmdk "$img/db.raw" exp/db-ovf/db-disk1.vmdk ||
    fail "the db directory's disk differs from the domain's"
grep -q 'http://schemas.dmtf.org/ovf/envelope/2' x/*.ovf && fail "web.ova is OVF 2"
rm -rf x && mkdir x && tar -xf exp/web-v2.ova -C x
grep -q 'http://schemas.dmtf.org/ovf/envelope/2' x/*.ovf || fail "web-v2.ova is not OVF 2"
rm -rf x
checks=$((checks + 1))
[ ! -e exp/nosuch.ova ] || fail "the failed export left exp/nosuch.ova"
nothing_left exp "after the exports"
checks=$((checks + 1))
python3 - plans/mixed.state.json "$T" <<'EOF' || fail "the exports' state"
import hashlib, json, os, sys
items = json.load(open(sys.argv[1]))["items"]
t = sys.argv[2]
assert "../exp/nosuch.ova" not in items, items.keys()  # never identified
web = items["../exp/web.ova"]
assert web["kind"] == "export" and web["status"] == "done", web
assert web["input"] == "web" and web["domains"] == [] and web["volumes"] == []
out = web["output"]
assert out["path"] == t + "/exp/web.ova" and out["layout"] == "ova"
assert out["size"] == os.path.getsize(out["path"])
assert [f["name"] for f in out["files"]] == ["web.ovf", "web.mf", "web-disk1.vmdk"]
mf = [f for f in out["files"] if f["name"] == out["manifest"]][0]
with open(out["path"], "rb") as f:
    f.seek(mf["offset"])
    assert hashlib.sha256(f.read(mf["size"])).hexdigest() == out["manifest_sha256"]
db = items["../exp/db-ovf"]["output"]
assert db["layout"] == "ovf-dir"
for f in db["files"]:
    assert os.path.getsize(os.path.join(db["path"], f["name"])) == f["size"]
assert "output" not in items["imported"]
EOF
stamps >"$T/exp.1"

# Re-run: the exports are skipped, their outputs untouched; the import
# (which the test driver forgot) runs again.
run batch --jobs 2 --json plans/mixed.json
expect_rc 1 "re-run of the exports"
for id in $exports; do
    [ "$(item_field "$id" "['status']") $(item_field "$id" "['reason']")" = "skipped done before" ] ||
        fail "re-run: $id: $(item_field "$id" "")"
done
[ "$(item_field imported "['status']")" = done ] || fail "re-run: imported: $out"
[ "$(item_field ../exp/nosuch.ova "['status']")" = failed ] || fail "re-run: nosuch"
stamps >"$T/exp.2"
checks=$((checks + 1))
cmp -s "$T/exp.1" "$T/exp.2" || fail "re-run touched exports: $(diff "$T/exp.1" "$T/exp.2")"
# The item lines and the table say so.
run batch plans/mixed.json
expect_err_contains "'../exp/web.ova': skipped (done before): $T/exp/web.ova" "skip line"
expect_err_contains "started (export web to $T/exp/web.ova over test://$T/node.xml)" \
    "start line of an export"
printf '%s\n' "$out" | grep -q "^\.\./exp/web\.ova  *skipped .* $T/exp/web.ova$" ||
    fail "table: $out"

# An output removed is exported again; the others stay skipped.
rm exp/web.ova
run batch --json plans/mixed.json
[ "$(item_field ../exp/web.ova "['status']") $(item_field ../exp/web.ova "['reason']")" = "done target changed" ] ||
    fail "removed output: $(item_field ../exp/web.ova "")"
[ "$(item_field web-v2 "['status']")" = skipped ] || fail "removed output: web-v2"
run verify exp/web.ova
expect_rc 0 "verify the re-exported web.ova"
# An output that is not the one written (same name, other bytes) is not
# done, and is not replaced.
cp exp/web-v2.ova "$T/web-v2.keep"
printf 'x' >>exp/web-v2.ova
run batch --json --dry-run plans/mixed.json
[ "$(item_field web-v2 "['status']")" = failed ] || fail "changed output: $out"
[ "$(item_field web-v2 "['reason']")" = "target changed" ] || fail "changed output: reason"
item_field web-v2 "['error']['message']" | grep -q "already exists" ||
    fail "a changed output is not replaced: $out"
cp "$T/web-v2.keep" exp/web-v2.ova
run batch --json --dry-run plans/mixed.json
[ "$(item_field web-v2 "['status']")" = would-skip ] || fail "restored output: $out"

# A disk written to: the export's source changed. Its old output exists,
# so the export refuses to replace it and leaves it as it was.
stamps >"$T/exp.3"
touch "$img/db.raw"
run batch --json plans/mixed.json
[ "$(item_field ../exp/db-ovf "['status']") $(item_field ../exp/db-ovf "['reason']")" = "failed source changed" ] ||
    fail "source changed: $(item_field ../exp/db-ovf "")"
stamps >"$T/exp.4"
checks=$((checks + 1))
cmp -s "$T/exp.3" "$T/exp.4" || fail "a refused export touched outputs"
rm -r exp/db-ovf
run batch --json plans/mixed.json
[ "$(item_field ../exp/db-ovf "['status']") $(item_field ../exp/db-ovf "['reason']")" = "done failed before" ] ||
    fail "after the old output went: $(item_field ../exp/db-ovf "")"
run verify exp/db-ovf
expect_rc 0 "verify the db export again"
nothing_left exp "after the re-runs"

finish
