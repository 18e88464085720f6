#!/usr/bin/env bash
# review.sh — review mode end to end through a real node and two station
# daemons: station a holds the analyst's trains for a data steward, b runs
# them at once. pht run stops waiting and saves its run folder; the steward
# reads the queued train (code, permit, columns, expiry, the diff against
# the standard train) and approves it a simulated day later (the clock is
# moved with PHT_CLOCK_OFFSET, never slept); pht results picks the results
# up and prints the combined result, equal to pht sim's on the same data; a
# two-round train goes on round after round; an expired train is refused at
# approve; the audit log's code hash leads to the stored code, which shows
# and replays without the analyst's file. Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
. "$(dirname "$0")/../lib.sh"
need curl python3

dir=$(mktemp -d /tmp/pht-review-XXXXXX)
node_pid=""
a_pid=""
b_pid=""
cleanup() {
  stop "$a_pid"
  stop "$b_pid"
  stop "$node_pid"
}
keep_on_failure "$dir"
at_exit cleanup
export PHT_TRAIN_LIB=$SRC/trains/lib
export PHT_RUNS=$dir/runs
unset PHT_CLOCK_OFFSET
DAY=86400

# ---- PKI, keys, data: registry.csv split between a and b
{
  "$PHT" pki init --out "$dir/ca" &&
  "$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role station --name a --out "$dir/a/tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role station --name b --out "$dir/b/tls" &&
  "$PHT" keygen --name a --out "$dir/a/keys" &&
  "$PHT" keygen --name b --out "$dir/b/keys" &&
  "$PHT" keygen --name ana --out "$dir/ana-keys" &&
  "$PHT" keygen --name authority --out "$dir/auth-keys"
} >"$dir/setup.log" 2>&1
ok $? "PKI and keys for a node, two stations, an analyst and a permit authority" "$dir/setup.log"
mkdir -p "$dir/a/data" "$dir/b/data" "$dir/station-keys" "$dir/trains"
csv=$SRC/tests/data/station/registry.csv
rows=$(($(wc -l <"$csv") - 1))
half=$((rows / 2))
head -n $((half + 1)) "$csv" >"$dir/a/data/registry.csv"
{ head -n 1 "$csv"; tail -n +$((half + 2)) "$csv"; } >"$dir/b/data/registry.csv"
cp "$SRC/tests/data/station/registry.dict.json" "$dir/a/data/"
cp "$SRC/tests/data/station/registry.dict.json" "$dir/b/data/"
cp "$dir/a/keys/a.sign.pub" "$dir/b/keys/b.sign.pub" "$dir/station-keys/"

# the analyst's count: the standard train with one line changed (the steward sees it in the diff)
sed 's/^Output (combine result)$/Output (combine result) (a copy: counts by sex)/' \
  "$SRC/trains/std/count.lua" >"$dir/trains/count.lua"
cmp -s "$SRC/trains/std/count.lua" "$dir/trains/count.lua"
[ $? -eq 1 ]
ok $? "the analyst's count.lua differs from the standard one in one line"
# a two-round train: the pooled mean, then the pooled sum of squares about it
cat >"$dir/trains/var.lua" <<'LUA'
return {
  name = "var", version = "1",
  params = { column = "string", mean = "number (optional)" },
  station = function(data, params, round)
    local c = data:column(params.column)
    if round == 1 then return { n = c:count(), sum = c:sum() } end
    return { n = c:count(), sum = c:sum(), sumsq = c:sumsq() }
  end,
  combine = function(results, params, round)
    local n, s, q = 0, 0, 0
    for _, r in ipairs(results) do n, s, q = n + r.n, s + r.sum, q + (r.sumsq or 0) end
    if round == 1 then return { done = false, params = { column = params.column, mean = s / n } } end
    local m = params.mean
    return { done = true, result = { n = n, mean = m, ss = q - 2 * m * s + n * m * m } }
  end,
}
LUA
"$PHT" permit issue --key "$dir/auth-keys/authority.sign.key" --id P-REV \
  --analyst "ana=$dir/ana-keys/ana.sign.pub" --station a --dataset registry \
  --columns registry:age,sex,bmi --purpose "counts and variances for the review test" \
  --train "$dir/trains/count.lua" --train "$dir/trains/var.lua" \
  --from 2020-01-01 --until 30d --out "$dir/P-REV.permit" >"$dir/permit.log" 2>&1
ok $? "the authority issues permit P-REV for both trains at station a" "$dir/permit.log"

cat >"$dir/node.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 10, "timeout": 60}}
EOF
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 10 test -s "$dir/port"
ok $? "node listening" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"

for s in a b; do
  if [ $s = a ]; then mode=review; gov='"permit_authorities": ["../auth-keys/authority.sign.pub"],'
  else mode=auto; gov=""; fi
  cat >"$dir/$s/station.json" <<EOF
{"station": "$s",
 "datasets": {"registry": {"csv": "data/registry.csv"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "$mode"}],
 "policy": {"k": 5}, $gov
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF
done
# start_a [OFFSET]: station a's daemon, its clock OFFSET seconds ahead
start_a() {
  PHT_CLOCK_OFFSET=${1:-0} "$PHT" station run --config "$dir/a/station.json" --wait 2 \
    --backoff-max 1 2>>"$dir/a/daemon.log" &
  a_pid=$!
}
start_a
"$PHT" station run --config "$dir/b/station.json" --wait 2 --backoff-max 1 2>>"$dir/b/daemon.log" &
b_pid=$!
wait_until 20 grep -qs "published" "$dir/a/daemon.log" &&
  wait_until 20 grep -qs "published" "$dir/b/daemon.log"
ok $? "station daemons a (review) and b (auto) polling" "$dir/a/daemon.log"

cat >"$dir/analyst.json" <<EOF
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ca/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "stations": "a,b",
 "datasets": "registry", "expires": "3d"}
EOF
run() { "$PHT" run "$@" --config "$dir/analyst.json" --permit-file "$dir/P-REV.permit"; }
# queued_id: the id of the one pending train in a's queue
queued_id() {
  "$PHT" station queue --config "$dir/a/station.json" --json 2>/dev/null | python3 -c '
import json, sys
p = [i["train"] for i in json.load(sys.stdin) if i["state"] == "pending"]
print(p[0] if len(p) == 1 else "")'
}
got_queued() { q=$(queued_id); [ -n "$q" ]; }
# has_entry EVENT TRAIN: station a's log has EVENT for TRAIN
has_entry() {
  python3 - "$dir/a/audit.log" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)["entry"]
    if e.get("event") == sys.argv[2] and e.get("train") == sys.argv[3]:
        sys.exit(0)
sys.exit(1)
PY
}
# same_json A B: the two files hold equal JSON
same_json() { # on a difference, both sides as TAP comments
  python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
if a != b:
    print("# got:  " + json.dumps(a, sort_keys=True))
    print("# want: " + json.dumps(b, sort_keys=True))
sys.exit(0 if a == b else 1)' "$1" "$2"
}

# ---- 1. pht run stops waiting when --timeout passes, and saves the run
run "$dir/trains/count.lua" --params '{"by":"sex"}' --timeout 3s \
  >"$dir/run1.out" 2>"$dir/run1.err"
rc=$?
run1=$(sed -n 's/.*pick up the results later with: pht results \([0-9a-f]*\)$/\1/p' "$dir/run1.err")
[ $rc -eq 3 ] && [ ! -s "$dir/run1.out" ] && [ -n "$run1" ] &&
  grep -q "station a has not answered yet" "$dir/run1.err" &&
  [ -f "$dir/runs/$run1/run.json" ] && [ -f "$dir/runs/$run1/train.lua" ]
ok $? "pht run: b answered, a holds the train: stopped waiting (exit 3), run folder saved" "$dir/run1.err"
cmp -s "$dir/runs/$run1/train.lua" <("$PHT" train assemble "$dir/trains/count.lua")
ok $? "  the run folder holds the train exactly as signed" "$dir/run1.err"
[ "$(stat -c %a "$dir/runs/$run1")" = 700 ] && [ "$(stat -c %a "$dir/runs/$run1/run.json")" = 600 ]
ok $? "  the folder is 0700 and run.json 0600"
"$PHT" results "$run1" >"$dir/early.out" 2>"$dir/early.err"
[ $? -eq 3 ] && [ ! -s "$dir/early.out" ]
ok $? "pht results before the steward decided: still waiting (exit 3)" "$dir/early.err"

wait_until 30 got_queued
ok $? "the train waits in a's approval queue" "$dir/a/daemon.log"
Q1=$q
"$PHT" station queue --config "$dir/a/station.json" >"$dir/queue.txt" 2>&1 &&
  grep -q "expires" "$dir/queue.txt" && ! grep -q "EXPIRED" "$dir/queue.txt"
ok $? "the queue listing shows the train's expiry" "$dir/queue.txt"

# ---- 2. what the steward reads
"$PHT" station queue show --config "$dir/a/station.json" "$Q1" >"$dir/show.txt" 2>"$dir/show.err"
ok $? "pht station queue show ID" "$dir/show.err"
python3 - "$dir/show.txt" "$dir/runs/$run1/train.lua" <<'PY'
import sys
show, code = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if code in show else 1)
PY
ok $? "  it prints the code exactly as signed" "$dir/show.txt"
grep -q "^  permit     P-REV, valid" "$dir/show.txt" && grep -q "^  purpose    counts and variances" "$dir/show.txt" &&
  grep -q "^  allows     registry: age, sex, bmi" "$dir/show.txt"
ok $? "  the permit: id, validity, purpose, the columns it allows" "$dir/show.txt"
grep -q "^  datasets   registry" "$dir/show.txt" && grep -q "^  columns    sex" "$dir/show.txt" &&
  grep -q '^  params     {"by":"sex"}' "$dir/show.txt"
ok $? "  the datasets and the columns it will read (from its params)" "$dir/show.txt"
exp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["waiting"]["expires"])' "$dir/runs/$run1/run.json")
want=$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)
grep -q "^  expires    $want\$" "$dir/show.txt"
ok $? "  the expiry, 3d after it was sent (ANALYST.json expires) ($want)" "$dir/show.txt"
python3 - "$dir/runs/$run1/run.json" <<'PY'
import json, sys, datetime
r = json.load(open(sys.argv[1]))
saved = datetime.datetime.strptime(r["saved"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
left = r["waiting"]["expires"] - saved.timestamp()
sys.exit(0 if r["expires"] == 3 * 86400 and 3 * 86400 - 60 < left <= 3 * 86400 else 1)
PY
ok $? "  and the run folder records the 3 days" "$dir/runs/$run1/run.json"
python3 - "$dir/show.txt" <<'PY'
import sys
t = open(sys.argv[1]).read()
d = t.split("== the standard train count ==\n", 1)[1]
lines = d.splitlines()
ok = (lines[0].endswith("trains/std/count.lua") and lines[0].startswith("--- ")
      and lines[1] == "+++ queued train" and lines[2].startswith("@@ ")
      and "-Output (combine result)" in lines
      and "+Output (combine result) (a copy: counts by sex)" in lines
      and sum(1 for l in lines if l[:1] in "+-" and not l.startswith(("---", "+++"))) == 2)
sys.exit(0 if ok else 1)
PY
ok $? "  a unified diff against trains/std/count.lua: the one changed line" "$dir/show.txt"

# ---- 3. a day later the steward approves; a's daemon runs at that clock too
stop "$a_pid"
PHT_CLOCK_OFFSET=$DAY "$PHT" station approve --config "$dir/a/station.json" --by steward "$Q1" \
  >"$dir/approve.out" 2>"$dir/approve.err"
ok $? "a day later (clock +1 day) the steward approves it" "$dir/approve.err"
start_a $DAY
wait_until 60 has_entry released "$Q1"
ok $? "station a runs it and releases" "$dir/a/daemon.log"
stop "$a_pid"
start_a 0   # back at the clock the analyst and station b share
python3 - "$dir/a/audit.log" "$Q1" <<'PY'
import json, sys, datetime
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
t = lambda e: datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ")
q = [e for e in ev if e.get("train") == sys.argv[2] and e["event"] in ("queued", "approved")]
sys.exit(0 if len(q) == 2 and (t(q[1]) - t(q[0])).total_seconds() >= 86400 else 1)
PY
ok $? "  the log has the approval a day after the train was queued" "$dir/a/audit.log"

"$PHT" results "$run1" --timeout 60s >"$dir/results1.json" 2>"$dir/results1.err"
ok $? "pht results RUN: the combined result" "$dir/results1.err"
"$PHT" sim "$dir/trains/count.lua" --station "a=$dir/a/data/registry.csv" \
  --station "b=$dir/b/data/registry.csv" --params '{"by":"sex"}' >"$dir/sim1.json" 2>"$dir/sim1.err"
same_json "$dir/results1.json" "$dir/sim1.json"
ok $? "  equal to pht sim's on the same data" "$dir/results1.json"
"$PHT" results "$dir/runs/$run1" >"$dir/again.json" 2>"$dir/again.err" &&
  same_json "$dir/again.json" "$dir/sim1.json" && same_json "$dir/runs/$run1/result.json" "$dir/sim1.json"
ok $? "  done runs print their result again (from result.json; the folder path works too)" "$dir/again.err"

# ---- 4. the audit log leads to the stored code
"$PHT" audit show "$dir/a/audit.log" "$Q1" --code >"$dir/audit-show.txt" 2>"$dir/audit-show.err" &&
  python3 - "$dir/audit-show.txt" "$dir/runs/$run1/train.lua" <<'PY'
import sys
t, code = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if "== code (SHA-256 " in t and t.endswith(code) else 1)
PY
ok $? "pht audit show --code prints the stored code" "$dir/audit-show.err"
PHT_CLOCK_OFFSET=$DAY "$PHT" audit replay "$dir/a/audit.log" "$Q1" --config "$dir/a/station.json" \
  >"$dir/replay.out" 2>"$dir/replay.err" && grep -q "MATCH" "$dir/replay.out"
ok $? "pht audit replay without --train: the stored code replays to the released output" "$dir/replay.err"
"$PHT" audit verify "$dir/a/audit.log" --station-key "$dir/a/keys/a.sign.pub" >"$dir/verify.out" 2>&1
ok $? "the audit log still verifies" "$dir/verify.out"
sha=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code_sha256"])' "$dir/runs/$run1/run.json")
cp "$dir/a/audit.log.code/$sha.lua" "$dir/code.bak"
chmod u+w "$dir/a/audit.log.code/$sha.lua"
echo "-- edited" >>"$dir/a/audit.log.code/$sha.lua"
"$PHT" audit show "$dir/a/audit.log" "$Q1" --code >/dev/null 2>"$dir/tamper.err"
[ $? -eq 1 ] && grep -q "no longer has the SHA-256" "$dir/tamper.err"
ok $? "a stored code file that was changed is refused, not shown" "$dir/tamper.err"
cp "$dir/code.bak" "$dir/a/audit.log.code/$sha.lua"

# ---- 5. an expired train is refused at approve
run "$dir/trains/count.lua" --params '{"by":"sex"}' --detach --expires 1h --timeout 2h \
  >"$dir/run2.out" 2>"$dir/run2.err"
[ $? -ne 0 ]
ok $? "--expires shorter than --timeout is refused" "$dir/run2.err"
run "$dir/trains/count.lua" --params '{"by":"sex"}' --detach --expires 1h --timeout 10s \
  >"$dir/run2.out" 2>"$dir/run2.err"
[ $? -eq 3 ]
ok $? "pht run --detach --expires 1h: posted, stopped waiting at once" "$dir/run2.err"
wait_until 30 got_queued
ok $? "the train waits in a's queue" "$dir/a/daemon.log"
Q2=$q
PHT_CLOCK_OFFSET=$((2 * DAY)) "$PHT" station queue --config "$dir/a/station.json" >"$dir/queue2.txt" 2>&1 &&
  grep -q "EXPIRED: it can only be refused" "$dir/queue2.txt"
ok $? "two days later the queue listing marks it expired" "$dir/queue2.txt"
PHT_CLOCK_OFFSET=$((2 * DAY)) "$PHT" station approve --config "$dir/a/station.json" --by steward "$Q2" \
  >"$dir/approve2.out" 2>"$dir/approve2.err"
[ $? -eq 1 ] && grep -q "train $Q2 expired at .*before this approval" "$dir/approve2.err"
ok $? "approve refuses the expired train with a clear error" "$dir/approve2.err"
! has_entry approved "$Q2" && [ "$(queued_id)" = "$Q2" ]
ok $? "  nothing logged, the train still pending" "$dir/a/audit.log"
PHT_CLOCK_OFFSET=$((2 * DAY)) "$PHT" station refuse --config "$dir/a/station.json" --by steward "$Q2" \
  >"$dir/refuse2.out" 2>"$dir/refuse2.err"
ok $? "  refusing it is allowed" "$dir/refuse2.err"
run2=$(sed -n 's/.*pick up the results later with: pht results \([0-9a-f]*\)$/\1/p' "$dir/run2.err")
"$PHT" results "$run2" --timeout 60s >"$dir/results2.json" 2>"$dir/results2.err"
[ $? -eq 1 ] && [ ! -s "$dir/results2.json" ] &&
  grep -q "station a, round 1: refused: refused by the station's data steward" "$dir/results2.err"
ok $? "pht results of the refused run: it failed, and says that a's steward refused it" "$dir/results2.err"

# ---- 6. a two-round train: pht results goes on round after round
run "$dir/trains/var.lua" --params '{"column":"age"}' --detach >"$dir/run3.out" 2>"$dir/run3.err"
rc=$?
run3=$(sed -n 's/.*pick up the results later with: pht results \([0-9a-f]*\)$/\1/p' "$dir/run3.err")
[ $rc -eq 3 ] && [ -n "$run3" ]
ok $? "two-round train, --detach: saved after posting round 1" "$dir/run3.err"
wait_until 30 got_queued
R1=$q
PHT_CLOCK_OFFSET=$DAY "$PHT" station approve --config "$dir/a/station.json" --by steward "$R1" \
  >/dev/null 2>"$dir/approve3.err"
ok $? "round 1 approved" "$dir/approve3.err"
wait_until 60 has_entry released "$R1"
ok $? "  and released" "$dir/a/daemon.log"
"$PHT" results "$run3" >"$dir/results3a.json" 2>"$dir/results3a.err"
[ $? -eq 3 ] && [ ! -s "$dir/results3a.json" ] && grep -q "stopped waiting in round 2" "$dir/results3a.err"
ok $? "pht results: round 1 combined, round 2 sent, waiting again (exit 3)" "$dir/results3a.err"
python3 -c 'import json,sys; w = json.load(open(sys.argv[1]))["waiting"]; sys.exit(0 if w["round"] == 2 and "mean" in w["params"] else 1)' \
  "$dir/runs/$run3/run.json"
ok $? "  the run folder now holds round 2 and its params" "$dir/runs/$run3/run.json"
wait_until 30 got_queued
R2=$q
[ "$R2" != "$R1" ]
ok $? "round 2 waits in a's queue" "$dir/a/daemon.log"
PHT_CLOCK_OFFSET=$DAY "$PHT" station approve --config "$dir/a/station.json" --by steward "$R2" \
  >/dev/null 2>"$dir/approve4.err"
ok $? "round 2 approved" "$dir/approve4.err"
"$PHT" results "$run3" --timeout 60s >"$dir/results3.json" 2>"$dir/results3.err"
ok $? "pht results: done after round 2" "$dir/results3.err"
"$PHT" sim "$dir/trains/var.lua" --station "a=$dir/a/data/registry.csv" \
  --station "b=$dir/b/data/registry.csv" --params '{"column":"age"}' >"$dir/sim3.json" 2>"$dir/sim3.err"
same_json "$dir/results3.json" "$dir/sim3.json"
ok $? "  equal to pht sim's result" "$dir/results3.json"

# ---- 7. usage
"$PHT" results "$run3" --node "$url" >/dev/null 2>"$dir/u1.err"
[ $? -eq 2 ]
ok $? "pht results refuses options the run folder holds" "$dir/u1.err"
cp -r "$dir/runs/$run3" "$dir/edited-run"
rm "$dir/edited-run/result.json"
echo "-- edited" >>"$dir/edited-run/train.lua"
"$PHT" results "$dir/edited-run" >/dev/null 2>"$dir/u3.err"
[ $? -eq 1 ] && grep -q "train.lua: its SHA-256 is not the run's code_sha256" "$dir/u3.err"
ok $? "a run folder whose train.lua was changed is refused" "$dir/u3.err"
cp -r "$dir/runs/$run3" "$dir/odd-run"
python3 - "$dir/odd-run/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["extra"] = 1; json.dump(r, open(sys.argv[1], "w"))
PY
"$PHT" results "$dir/odd-run" >/dev/null 2>"$dir/u4.err"
[ $? -eq 2 ] && grep -q "unknown field extra" "$dir/u4.err"
ok $? "a run.json with an unknown field is refused and the field named" "$dir/u4.err"
"$PHT" results 0123456789abcdef0123456789abcdef >/dev/null 2>"$dir/u2.err"
[ $? -eq 1 ] && grep -q "no run folder" "$dir/u2.err"
ok $? "an unknown run: no run folder" "$dir/u2.err"

done_testing
