#!/usr/bin/env bash
# cli.sh — end to end at one station: keygen, sign, pht station exec on a
# small dataset, the audit tools, and every refusal logged with its reason
# while the station keeps working. Prints TAP.
set -u
PHT=${PHT:?PHT must name the pht binary}
SRC=${PHT_SRC:?PHT_SRC must name the source tree}
DATA=$SRC/tests/data/station
T=$(mktemp -d "${TMPDIR:-/tmp}/pht-station-cli-XXXXXX")
. "$(dirname "$0")/../lib.sh"
at_exit 'rm -rf "$T"'

# the last audit entry's field $1 (string values), with python3 reading the JSON line
last_field() { tail -n 1 "$T/audit.log" | python3 -c 'import json,sys; e=json.loads(sys.stdin.read())["entry"]; print(e.get(sys.argv[1], ""))' "$1"; }
json_get() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); [v := v[int(k)] if isinstance(v, list) else v[k] for k in sys.argv[2:]]; print(json.dumps(v) if not isinstance(v, str) else v)' "$@"; }
exec_train() { "$PHT" station exec --config "$T/station.json" "$1" >"$T/out" 2>"$T/err"; }
sign() { local out=$1; shift; "$PHT" train sign "$@" --out "$out" >/dev/null 2>"$T/sign.err"; }

# ---- keys and the station config
for who in st-a analyst visitor stranger; do
  "$PHT" keygen --name "$who" --out "$T/keys" >/dev/null || { echo "Bail out! keygen $who"; exit 1; }
done
cp "$DATA/registry.csv" "$DATA/registry.dict.json" "$T/"
cat >"$T/station.json" <<JSON
{
  "station": "st-a",
  "datasets": {"registry": {"csv": "registry.csv"}},
  "signers": [
    {"name": "analyst", "key": "keys/analyst.sign.pub", "mode": "auto"},
    {"name": "visitor", "key": "keys/visitor.sign.pub", "mode": "review"}
  ],
  "policy": {"k": 5, "output": {"max_bytes": 65536, "max_numbers": 1000, "max_string": 256},
             "limits": {"instructions": 100000000, "memory_mb": 64, "time_seconds": 20}},
  "audit_log": "audit.log",
  "key": "keys/st-a.sign.key",
  "seen_ids": "seen-ids"
}
JSON
AK=$T/keys/analyst.sign.key
PUB=$T/keys/st-a.sign.pub

# ---- a train runs, its output equals an independent computation
sign "$T/t1.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations st-a,st-b
ok $? "pht train sign"
exec_train "$T/t1.signed"; rc=$?
ok $rc "pht station exec releases the output"
[ $rc -eq 0 ] || diag "$T/err"
out=$(cat "$T/out")
read -r want_n want_sum < <(awk -F, 'NR > 1 { n++; s += $1 } END { print n, s }' "$DATA/registry.csv")
[ "$(json_get "$out" n)" = "$want_n" ] && [ "$(json_get "$out" sum)" = "$want_sum" ]
ok $? "n and sum of age equal awk's ($want_n, $want_sum)"
awk -v m="$(json_get "$out" mean)" -v n="$want_n" -v s="$want_sum" \
  'BEGIN { d = m - s / n; exit !(d < 1e-9 && d > -1e-9) }'
ok $? "mean of age equals awk's"
[ "$(wc -l <"$T/out")" -eq 1 ]
ok $? "stdout holds the output JSON and nothing else"
T1=$(last_field train)
grep -q "train $T1 released" "$T/err"
ok $? "stderr says the train was released"

# a filtered mean over a column with missing values
sign "$T/t2.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"bmi","sex":"F"}' \
  --datasets registry --stations st-a
exec_train "$T/t2.signed"
ok $? "exec of a filtered train"
out2=$(cat "$T/out")
read -r want_n want_sum < <(awk -F, 'NR > 1 && $2 == "F" && $3 != "NA" && $3 != "" { n++; s += $3 } END { printf "%d %.10f\n", n, s }' "$DATA/registry.csv")
[ "$(json_get "$out2" n)" = "$want_n" ] &&
  awk -v a="$(json_get "$out2" sum)" -v b="$want_sum" 'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }'
ok $? "count and sum of bmi among F (missing skipped) equal awk's ($want_n, $want_sum)"

# ---- the audit tools
"$PHT" audit verify "$T/audit.log" --station-key "$PUB" >"$T/v" 2>&1
ok $? "audit verify OK"
grep -q "OK, 6 entries" "$T/v"
ok $? "six entries: received, executed, released twice"
"$PHT" audit list "$T/audit.log" >"$T/list"
ok $? "audit list"
grep -Eq "^[0-9T:Z-]+ +$T1 +analyst +mean +released$" "$T/list"
ok $? "list: time, train id, signer, train name, outcome"
[ "$(wc -l <"$T/list")" -eq 2 ]
ok $? "list: one line per run"
"$PHT" audit show "$T/audit.log" "$T1" >"$T/show"
ok $? "audit show"
grep -q "code_sha256 *$(sha256sum "$DATA/mean.lua" | cut -c1-64)" "$T/show"
ok $? "show: the code hash is the SHA-256 of the train file"
grep -q "csv_sha256 *$(sha256sum "$DATA/registry.csv" | cut -c1-64)" "$T/show" &&
  grep -q "dict_sha256 *$(sha256sum "$DATA/registry.dict.json" | cut -c1-64)" "$T/show"
ok $? "show: the data hashes are the SHA-256 of the CSV and dictionary"
grep -qF "output           $out" "$T/show"
ok $? "show: the released output exactly as printed"
grep -q 'params *{"column":"age"}' "$T/show" && grep -q "rows_read *40" "$T/show" &&
  grep -q "peak_memory" "$T/show" && grep -q "wall_ms" "$T/show" && grep -q "seed" "$T/show"
ok $? "show: params and resource use"
"$PHT" audit show "$T/audit.log" 0123456789abcdef0123456789abcdef >/dev/null 2>"$T/e"
[ $? -eq 1 ] && grep -q "no entries about train" "$T/e"
ok $? "show of an unknown train: exit 1"

# ---- replay
"$PHT" audit replay "$T/audit.log" "$T1" --config "$T/station.json" --train "$DATA/mean.lua" >"$T/r"
[ $? -eq 0 ] && grep -q ": MATCH$" "$T/r"
ok $? "replay from the Lua file matches"
"$PHT" audit replay "$T/audit.log" "$T1" --config "$T/station.json" --train "$T/t1.signed" >"$T/r"
[ $? -eq 0 ] && grep -q ": MATCH$" "$T/r"
ok $? "replay from the signed envelope matches"
sign "$T/t3.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age","noise":true}' \
  --datasets registry --stations st-a
exec_train "$T/t3.signed"
T3=$(python3 -c 'import json,sys; print([json.loads(l)["entry"] for l in open(sys.argv[1])][-3]["train"])' "$T/audit.log")
"$PHT" audit replay "$T/audit.log" "$T3" --config "$T/station.json" --train "$DATA/mean.lua" >"$T/r"
[ $? -eq 0 ] && grep -q ": MATCH$" "$T/r" && grep -q noise "$T/out"
ok $? "replay of a train drawing random numbers matches (recorded seed)"
sed 's/noise = math.random()/noise = math.random() + 1/' "$DATA/mean.lua" >"$T/mean2.lua"
"$PHT" audit replay "$T/audit.log" "$T3" --config "$T/station.json" --train "$T/mean2.lua" >/dev/null 2>"$T/e"
[ $? -eq 1 ] && grep -q "train $T3 ran code" "$T/e"
ok $? "replay with other code: exit 1, hash mismatch"
cp "$T/registry.csv" "$T/registry.csv.orig"
sed -i '2s/^[0-9]*,/99,/' "$T/registry.csv"
"$PHT" audit replay "$T/audit.log" "$T1" --config "$T/station.json" --train "$DATA/mean.lua" >"$T/r" 2>"$T/e"
[ $? -eq 1 ] && grep -q ": MISMATCH$" "$T/r" && grep -q "differ from the ones the train ran on" "$T/e"
ok $? "replay on changed data: mismatch, exit 1, data change noted"
cp "$T/registry.csv.orig" "$T/registry.csv"

# ---- pht sim gives the same result as pht station exec
"$PHT" sim "$DATA/mean.lua" --station st-a="$T/registry.csv" --params '{"column":"age"}' >"$T/sim" 2>/dev/null
ok $? "pht sim of the same train"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); e=json.loads(sys.argv[2]); sys.exit(0 if s["stations"][0] == e and s["n"] == e["n"] and s["sum"] == e["sum"] else 1)' "$T/sim" "$out"
ok $? "sim's station output equals the released output of exec"

# ---- refusals: each logged with its reason, the station keeps working
exec_train "$T/t1.signed"
[ $? -eq 1 ] && grep -q "rejected: train $T1 was seen before" "$T/err"
ok $? "a replayed envelope is refused"
[ "$(last_field event)" = rejected ] && [ "$(last_field error)" = replayed ] &&
  [ "$(last_field train)" = "$T1" ]
ok $? "...and logged as rejected (replayed)"

sign "$T/exp.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations st-a --expires 1s
sleep 2
exec_train "$T/exp.signed"
[ $? -eq 1 ] && grep -q "rejected: train: expired" "$T/err"
ok $? "an expired train is refused"
[ "$(last_field event)" = rejected ] && [ "$(last_field error)" = expired ] &&
  [ -n "$(last_field train)" ]
ok $? "...and logged as rejected (expired) with its id"

sign "$T/unk.signed" "$DATA/mean.lua" --key "$T/keys/stranger.sign.key" \
  --params '{"column":"age"}' --datasets registry --stations st-a
exec_train "$T/unk.signed"
[ $? -eq 1 ] && grep -q "unknown signer" "$T/err"
ok $? "an unknown signer is refused"
[ "$(last_field event)" = rejected ] && [ "$(last_field error)" = "unknown signer" ] &&
  [ "$(last_field signer)" = "$("$PHT" keygen --help >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signer"])' "$T/unk.signed")" ]
ok $? "...and logged with the claimed signer fingerprint"

python3 - "$T/t2.signed" "$T/tampered.signed" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
p = bytearray(base64.b64decode(env["payload"]))
i = p.index(b'"column":"bmi"') + len('"column":"')
p[i:i + 3] = b"age"
env["payload"] = base64.b64encode(bytes(p)).decode()
open(sys.argv[2], "w").write(json.dumps(env, separators=(",", ":")) + "\n")
PY
exec_train "$T/tampered.signed"
[ $? -eq 1 ] && grep -q "bad signature" "$T/err"
ok $? "a tampered envelope is refused"
[ "$(last_field event)" = rejected ] && [ "$(last_field error)" = "bad signature" ] &&
  [ "$(last_field envelope_sha256)" = "$(sha256sum "$T/tampered.signed" | cut -c1-64)" ]
ok $? "...and logged with the envelope's SHA-256"

printf 'not an envelope' >"$T/junk.signed"
exec_train "$T/junk.signed"
[ $? -eq 1 ] && [ "$(last_field event)" = rejected ] && [ "$(last_field error)" = malformed ]
ok $? "junk is refused and logged as malformed"

sign "$T/other.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations st-b
exec_train "$T/other.signed"
[ $? -eq 1 ] && grep -q "station st-a is not among the train's targets" "$T/err" &&
  [ "$(last_field error)" = "refused by policy" ]
ok $? "a train for other stations is refused and logged"

sign "$T/nods.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets cohort --stations st-a
exec_train "$T/nods.signed"
[ $? -eq 1 ] && grep -q "none of the train's datasets (cohort) is held at station st-a" "$T/err"
ok $? "a train for a dataset not held here is refused"

sign "$T/vis.signed" "$DATA/mean.lua" --key "$T/keys/visitor.sign.key" \
  --params '{"column":"age"}' --datasets registry --stations st-a
exec_train "$T/vis.signed"
[ $? -eq 0 ] && [ ! -s "$T/out" ] && grep -q "queued: signer visitor is marked review" "$T/err" &&
  [ "$(last_field event)" = queued ]
ok $? "a review signer's train is queued, not run, and logged"

sign "$T/boom.signed" "$DATA/boom.lua" --key "$AK" --datasets registry --stations st-a
exec_train "$T/boom.signed"
[ $? -eq 1 ] && grep -q "failed: .*boom: deliberate failure" "$T/err" &&
  [ "$(last_field event)" = failed ] && [ "$(last_field error)" = "train error" ]
ok $? "a failing train is logged as failed with its error"
grep -q "the analyst is told: failed: train error: train error: boom: deliberate failure (audit entry seq" "$T/err"
ok $? "  it touched no data: the analyst would be told its message" "$T/err"
cat >"$T/boom2.lua" <<'LUA'
return { name = "boom2", version = "1",
  station = function(data) error("the sum is " .. data:column("age"):sum(), 0) end,
  combine = function(r) return { done = true, result = r[1] } end }
LUA
sign "$T/boom2.signed" "$T/boom2.lua" --key "$AK" --datasets registry --stations st-a
exec_train "$T/boom2.signed"
[ $? -eq 1 ] && grep -q "failed: the sum is " "$T/err" &&
  grep -q "the analyst is told: failed: no result: the run produced no releasable result (details in the station's audit log)$" "$T/err" &&
  [ "$(last_field data_dependent)" = True ]
ok $? "a train failing after reading data: the operator sees the detail, the analyst would get the one answer" "$T/err"

sign "$T/long.signed" "$DATA/longstring.lua" --key "$AK" --datasets registry --stations st-a
exec_train "$T/long.signed"
[ $? -eq 1 ] && grep -q "withheld: output \$.text: string of 300 bytes exceeds the cap of 256" "$T/err" &&
  [ "$(last_field event)" = withheld ] && [ ! -s "$T/out" ]
ok $? "an output over the station's string cap is withheld and logged"
! grep -q "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "$T/audit.log"
ok $? "the withheld output is not in the log"

sign "$T/t9.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations st-a
exec_train "$T/t9.signed"
[ $? -eq 0 ] && [ "$(cat "$T/out")" = "$out" ]
ok $? "after all that the station still releases the same answer"

"$PHT" audit verify "$T/audit.log" --station-key "$PUB" >"$T/v" 2>&1
ok $? "the whole log verifies"
"$PHT" audit list "$T/audit.log" >"$T/list"
grep -c . "$T/list" | grep -qx 15 &&
  grep -Eq " +analyst +mean +released$" "$T/list" && grep -Eq " +visitor +mean +queued$" "$T/list" &&
  grep -Eq "^[0-9T:Z-]+ +- +- +- +rejected$" "$T/list"
ok $? "list: 15 runs with their outcomes"
[ "$(grep -c . "$T/seen-ids")" -eq 10 ]
ok $? "seen-ids holds every authentic, valid train id once"

# ---- head, tampering and a torn line through the CLI
head_seq=$(awk '{ print $(NF-1) }' "$T/v"); head_hash=$(awk '{ print $NF }' "$T/v")
"$PHT" audit verify "$T/audit.log" --station-key "$PUB" --head "$head_seq:$head_hash" >/dev/null 2>&1
ok $? "verify against the published head"
cp "$T/audit.log" "$T/cut.log"
sed -i '$d' "$T/cut.log"
"$PHT" audit verify "$T/cut.log" --station-key "$PUB" --head "$head_seq:$head_hash" >"$T/v2" 2>&1
[ $? -eq 1 ] && grep -q "published head is entry $head_seq" "$T/v2"
ok $? "a log missing its last entry fails against the published head"
cp "$T/audit.log" "$T/bad.log"
sed -i '2s/"rows_read":40/"rows_read":41/' "$T/bad.log"
"$PHT" audit verify "$T/bad.log" --station-key "$PUB" >"$T/v2" 2>&1
[ $? -eq 1 ] && grep -q "BROKEN at line 2 (hash mismatch)" "$T/v2"
ok $? "an edited entry is reported at its line"
"$PHT" audit verify "$T/audit.log" --station-key "$T/keys/analyst.sign.pub" >"$T/v2" 2>&1
[ $? -eq 1 ] && grep -q "BROKEN at line 1 (bad signature)" "$T/v2"
ok $? "another key does not verify the log"
lines=$(wc -l <"$T/audit.log")
head -c -40 "$T/audit.log" >"$T/torn.log"
"$PHT" audit verify "$T/torn.log" --station-key "$PUB" >"$T/v2" 2>&1
[ $? -eq 1 ] && grep -q "BROKEN at line $lines (torn last line)" "$T/v2"
ok $? "a torn last line is reported"
cp "$T/torn.log" "$T/audit.log"
exec_train "$T/t2.signed"
[ $? -eq 1 ] && grep -q "pht audit repair" "$T/err"
ok $? "the station refuses to run with a torn log"
"$PHT" audit repair "$T/audit.log" --station-key "$T/keys/st-a.sign.key" >"$T/rep" 2>&1
[ $? -eq 0 ] && grep -q "removed a torn last line" "$T/rep" && ls "$T"/audit.log.torn-* >/dev/null 2>&1
ok $? "audit repair moves the torn bytes aside"
"$PHT" audit verify "$T/audit.log" --station-key "$PUB" >/dev/null 2>&1 &&
  [ "$(last_field event)" = repaired ]
ok $? "the repaired log verifies and records the repair"
sign "$T/t10.signed" "$DATA/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations st-a
exec_train "$T/t10.signed"
ok $? "the station runs again after the repair"

# ---- usage errors
"$PHT" station exec "$T/t1.signed" >/dev/null 2>&1; [ $? -eq 2 ]
ok $? "station exec without --config: exit 2"
"$PHT" station exec --config "$T/nope.json" "$T/t1.signed" >/dev/null 2>"$T/e"; [ $? -eq 2 ] && grep -q "nope.json" "$T/e"
ok $? "station exec with a missing config: exit 2 naming it"
"$PHT" audit verify "$T/audit.log" >/dev/null 2>&1; [ $? -eq 2 ]
ok $? "audit verify without --station-key: exit 2"
"$PHT" audit verify "$T/audit.log" --station-key "$PUB" --head 3:abc >/dev/null 2>&1; [ $? -eq 2 ]
ok $? "audit verify with a bad --head: exit 2"
"$PHT" audit frob >/dev/null 2>&1; [ $? -eq 2 ]
ok $? "unknown audit subcommand: exit 2"

done_testing
