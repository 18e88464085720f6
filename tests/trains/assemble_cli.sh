#!/bin/bash
# assemble_cli.sh — what pht signs, hashes and runs is the assembled train:
# pht train assemble, train sign (code and code_sha256), permit approve --train,
# sim with a broken include, PHT_TRAIN_LIB (TAP). Env: PHT, PHT_SRC.
set -u
std="$PHT_SRC/trains/std"
tmp=$(mktemp -d)
. "$(dirname "$0")/../lib.sh"
at_exit 'rm -rf "$tmp"'
ok_tail=5
payload_of() { sed -n 's/.*"payload":"\([^"]*\)".*/\1/p' "$1" | base64 -d; }

"$PHT" train assemble "$std/cox.lua" >"$tmp/cox.lua" 2>"$tmp/asm.err"
ok $? "pht train assemble trains/std/cox.lua" "$tmp/asm.err"
! grep -q '^--#include' "$tmp/cox.lua" && grep -q '^--#begin "lib/stats.lua"$' "$tmp/cox.lua" &&
  grep -q '^--#end "lib/design.lua"$' "$tmp/cox.lua"
ok $? "  no include line is left; the library parts stand between their markers"
"$PHT" train assemble "$tmp/cox.lua" >"$tmp/cox2.lua" 2>"$tmp/asm2.err" && cmp -s "$tmp/cox.lua" "$tmp/cox2.lua"
ok $? "  assembling the assembled train gives the same bytes" "$tmp/asm2.err"

"$PHT" keygen --name ana --out "$tmp/keys" >/dev/null 2>&1
"$PHT" train sign "$std/cox.lua" --key "$tmp/keys/ana.sign.key" --out "$tmp/cox.env" \
  >"$tmp/sign.out" 2>&1
ok $? "pht train sign trains/std/cox.lua" "$tmp/sign.out"
payload_of "$tmp/cox.env" >"$tmp/cox.payload"
python3 - "$tmp/cox.payload" "$tmp/cox.lua" <<'PY'
import hashlib, json, sys
p = json.load(open(sys.argv[1]))
code = open(sys.argv[2], "rb").read()
sys.exit(0 if p["code"].encode() == code and p["code_sha256"] == hashlib.sha256(code).hexdigest() else 1)
PY
ok $? "  the signed code and its SHA-256 are the assembled train's"

sha=$(sha256sum <"$tmp/cox.lua" | cut -d' ' -f1)
"$PHT" permit approve --key "$tmp/keys/ana.sign.key" --train "$std/cox.lua" --out "$tmp/cox.approval" \
  >"$tmp/approve.out" 2>&1 && payload_of "$tmp/cox.approval" | grep -q "$sha"
ok $? "pht permit approve --train trains/std/cox.lua approves the assembled train's hash" "$tmp/approve.out"

mkdir -p "$tmp/t/std" "$tmp/t/lib" "$tmp/other"
printf 'local X = 1\n' >"$tmp/t/lib/x.lua"
printf 'local X = 2\n' >"$tmp/other/x.lua"
printf -- '-- a train\n--#include "lib/x.lua"\nreturn { name = "x", version = "1", station = function() return { x = X } end,\n  combine = function(r) return { done = true, result = r[1] } end }\n' >"$tmp/t/std/x.lua"
printf 'a\n1\n2\n3\n4\n5\n' >"$tmp/d.csv"
printf '{"dataset":"d","columns":[{"name":"a","type":"integer"}]}\n' >"$tmp/d.dict.json"
"$PHT" sim "$tmp/t/std/x.lua" --station "s=$tmp/d.csv" >"$tmp/x.json" 2>"$tmp/x.err" &&
  grep -q '"x":1' "$tmp/x.json"
ok $? "pht sim runs a train with lib/x.lua from the lib folder beside its folder" "$tmp/x.err"
PHT_TRAIN_LIB="$tmp/other" "$PHT" sim "$tmp/t/std/x.lua" --station "s=$tmp/d.csv" >"$tmp/x2.json" 2>"$tmp/x2.err" &&
  grep -q '"x":2' "$tmp/x2.json"
ok $? "  PHT_TRAIN_LIB names another library folder" "$tmp/x2.err"
printf -- '-- a train\n\n--#include "lib/nosuch.lua"\nreturn {}\n' >"$tmp/t/std/bad.lua"
"$PHT" sim "$tmp/t/std/bad.lua" --station "s=$tmp/d.csv" >/dev/null 2>"$tmp/bad.err"
[ $? -ne 0 ] && grep -q 'bad.lua:3: lib/nosuch.lua: not found in the train library' "$tmp/bad.err"
ok $? "pht sim of a train with a missing include fails naming the file and line" "$tmp/bad.err"
"$PHT" train sign "$tmp/t/std/bad.lua" --key "$tmp/keys/ana.sign.key" --out "$tmp/bad.env" >"$tmp/bads.err" 2>&1
[ $? -ne 0 ] && [ ! -e "$tmp/bad.env" ] && grep -q 'not found in the train library' "$tmp/bads.err"
ok $? "pht train sign refuses it and writes nothing" "$tmp/bads.err"

done_testing
