#!/usr/bin/env bash
# federation.sh — a whole federation on 127.0.0.1: PKI from pht pki, a node, three station daemons, analysts. Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
here="$SRC/tests/integration"
[ -x "$PHT" ] || { echo "Bail out! $PHT is not an executable"; exit 1; }
. "$(dirname "$0")/../lib.sh"
need curl
need sqlite3

dir=$(mktemp -d /tmp/pht-federation-XXXXXX)
node_pid=""
declare -A st_pid=()
bg_pids=()

cleanup() {
  local p s
  for p in "${bg_pids[@]}"; do stop "$p"; done
  for s in "${!st_pid[@]}"; do stop "${st_pid[$s]}"; done
  stop "$node_pid"
}
keep_on_failure "$dir"
at_exit cleanup

# ---- PKI, keys, data, configs ----
{
  "$PHT" pki init --out "$dir/ca" &&
  "$PHT" pki init --out "$dir/otherca" &&
  "$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name eve --out "$dir/eve-tls" &&
  "$PHT" pki issue --ca "$dir/otherca" --role analyst --name ana --out "$dir/foreign-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role station --name zz --out "$dir/zz-tls" &&
  for s in a b c; do
    "$PHT" pki issue --ca "$dir/ca" --role station --name $s --out "$dir/$s/tls" || exit 1
  done &&
  "$PHT" keygen --name ana --out "$dir/ana-keys" &&
  "$PHT" keygen --name eve --out "$dir/eve-keys" &&
  for s in a b c; do "$PHT" keygen --name $s --out "$dir/$s/keys" || exit 1; done
} >"$dir/setup.log" 2>&1
ok $? "PKI (pht pki) and keys (pht keygen) for a node, 3 stations, 2 analysts" "$dir/setup.log"

# the pinned station keys of the analysts
mkdir -p "$dir/station-keys"
for s in a b c; do cp "$dir/$s/keys/$s.sign.pub" "$dir/station-keys/"; done

i=0
for s in a b c; do
  i=$((i + 1))
  mkdir -p "$dir/$s/data"
  cp "$SRC/tests/reference/data/colon/station$i.csv" "$dir/$s/data/colon.csv"
  cp "$SRC/tests/reference/data/colon/station$i.dict.json" "$dir/$s/data/colon.dict.json"
done

cat >"$dir/node.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 10, "timeout": 60}}
EOF
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 10 test -s "$dir/port"
ok $? "node listening" "$dir/node.log"
port=$(cat "$dir/port" 2>/dev/null || echo 1)
url="https://127.0.0.1:$port"
# the same node on the same port, for restarts
sed "s/\"port\": 0/\"port\": $port/" "$dir/node.json" >"$dir/node-fixed.json"

for s in a b c; do
  signers="{\"name\": \"ana\", \"key\": \"../ana-keys/ana.sign.pub\", \"mode\": \"auto\"}"
  if [ $s = a ]; then
    signers="$signers, {\"name\": \"eve\", \"key\": \"../eve-keys/eve.sign.pub\", \"mode\": \"review\"}"
  fi
  cat >"$dir/$s/station.json" <<EOF
{"station": "$s",
 "datasets": {"colon": {"csv": "data/colon.csv", "dict": "data/colon.dict.json"}},
 "signers": [$signers],
 "policy": {"k": 5, "limits": {"time_seconds": 60}},
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF
done

start_station() {
  "$PHT" station run --config "$dir/$1/station.json" --wait 20 --backoff-max 1 \
    2>>"$dir/$1/daemon.log" &
  st_pid[$1]=$!
}
for s in a b c; do start_station $s; done

cat >"$dir/analyst.json" <<EOF
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ana-tls/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "timeout": "60s"}
EOF

listed() {
  "$PHT" stations --config "$dir/analyst.json" >"$dir/stations.out" 2>"$dir/stations.err" &&
  [ "$(grep -c 'colon (14)' "$dir/stations.out")" -eq 3 ]
}
wait_until 20 listed
ok $? "pht stations lists a, b and c with their published dictionaries" "$dir/stations.err"
wait_until 20 grep -q 'polling with wait=10 from now on' "$dir/a/daemon.log"
ok $? "a station asking for a longer poll than the node's max_wait (10 s) adapts" "$dir/a/daemon.log"

# c WHO ARGS...: curl with WHO's certificate (a directory with cert.pem and key.pem).
c() {
  local who=$1; shift
  curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/$who/cert.pem" \
    --key "$dir/$who/key.pem" "$@"
}

# ---- a multi-round train: the federation equals pht sim ----
# (not obstruct with node4: at station a 4 patients have both, and X'X[obstruct, node4] would
# release that crosstab cell under k, so the station withholds such a model)
GLM_PARAMS='{"family":"binomial","outcome":"status","covariates":["rx","sex","age","node4","surg"]}'
"$PHT" sim "$SRC/trains/std/glm.lua" --station "a=$dir/a/data/colon.csv" \
  --station "b=$dir/b/data/colon.csv" --station "c=$dir/c/data/colon.csv" \
  --params "$GLM_PARAMS" >"$dir/sim.json" 2>"$dir/sim.err"
ok $? "pht sim runs glm on the three stations' files" "$dir/sim.err"

"$PHT" run "$SRC/trains/std/glm.lua" --config "$dir/analyst.json" --stations a,b,c \
  --params "$GLM_PARAMS" --out "$dir/run.out" >"$dir/run.json" 2>"$dir/run.err"
ok $? "pht run dispatches glm to a, b, c through the node" "$dir/run.err"

same_result() { # same_result A B: byte-identical canonical JSON, or coefficients within 1e-12
  cmp -s "$1" "$2" ||
    { lua5.4 "$SRC/tests/trains/check.lua" same-coefs "$1" "$2" estimate 1e-12 &&
      lua5.4 "$SRC/tests/trains/check.lua" same-coefs "$1" "$2" se 1e-12; }
}
[ -s "$dir/run.json" ] && grep -q '"coefficients"' "$dir/run.json" && same_result "$dir/sim.json" "$dir/run.json"
ok $? "the federated glm equals pht sim on the same files" "$dir/run.err"
rounds=$(grep -c 'round [0-9]*: train [0-9a-f]* sent' "$dir/run.err")
[ "$rounds" -ge 2 ] && grep -q 'round 1: 3/3 stations answered, 0 errors' "$dir/run.err"
ok $? "it took $rounds rounds, with progress lines (round, answered/expected, errors)" "$dir/run.err"
cmp -s "$dir/run.json" "$dir/run.out"
ok $? "--out FILE holds the same result"
ana_train=$(sed -n 's/.*round 1: train \([0-9a-f]*\) sent.*/\1/p' "$dir/run.err" | head -n 1)

for s in a b c; do
  "$PHT" audit verify "$dir/$s/audit.log" --station-key "$dir/$s/keys/$s.sign.pub" \
    >"$dir/verify.out" 2>&1 || break
done
ok $? "every station's audit log verifies after the run" "$dir/verify.out"
grep -q '"event":"released"' "$dir/a/audit.log" && grep -q "$ana_train" "$dir/a/audit.log"
ok $? "station a logged the release of round 1 ($ana_train)"

# ---- a train that fails at the stations ----
"$PHT" run "$SRC/tests/data/station/boom.lua" --config "$dir/analyst.json" --stations a,b \
  --timeout 30s >"$dir/boom.json" 2>"$dir/boom.err"
rc=$?
# boom.lua raises before it touches any data: its message depends on no data
# value, so it is told precisely (docs/governance.md, "What the analyst is told")
[ $rc -eq 1 ] && [ "$(grep -c 'round 1: station [ab]: failed: train error: boom: deliberate failure' "$dir/boom.err")" -eq 2 ] &&
  [ ! -s "$dir/boom.json" ]
ok $? "a train that raises an error before touching data gets a signed error with its message from each station (exit $rc)" "$dir/boom.err"
grep -q 'boom: deliberate failure' "$dir/a/audit.log"
ok $? "the train's own message stays in the station's audit log"

# ---- who gets in ----
out=$(curl -sS --max-time 20 --cacert "$dir/ca/ca.pem" "$url/v1/stations" 2>&1)
[ $? -ne 0 ] && ! echo "$out" | grep -q '"stations"'
ok $? "a client without a certificate is refused"

"$PHT" run "$here/count.lua" --node "$url" --cert "$dir/foreign-tls/cert.pem" \
  --key "$dir/foreign-tls/key.pem" --ca "$dir/ca/ca.pem" --sign-key "$dir/ana-keys/ana.sign.key" \
  --station-keys "$dir/station-keys" --stations a --timeout 3s >"$dir/o" 2>"$dir/foreign.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'TLS\|closed\|refused' "$dir/foreign.err" && [ ! -s "$dir/o" ]
ok $? "an analyst certificate from another CA is refused (pht run exit $rc)" "$dir/foreign.err"

"$PHT" run "$here/count.lua" --node "$url" --cert "$dir/a/tls/cert.pem" \
  --key "$dir/a/tls/key.pem" --ca "$dir/ca/ca.pem" --sign-key "$dir/ana-keys/ana.sign.key" \
  --station-keys "$dir/station-keys" --stations a --timeout 20s >"$dir/o" 2>"$dir/pose.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'HTTP 403' "$dir/pose.err" && grep -q 'analyst' "$dir/pose.err"
ok $? "a station certificate posing as an analyst gets 403 (pht run exit $rc)" "$dir/pose.err"

# ---- inboxes and results belong to their owners ----
code=$(c ana-tls -o "$dir/body" -w '%{http_code}' \
  -d '{"train":"isol-1","round":1,"stations":["zz"],"envelope":"{\"x\":1}"}' "$url/v1/trains")
[ "$code" = 201 ]
ok $? "analyst posts a train for station zz only"
c a/tls "$url/v1/inbox?wait=0" >"$dir/a-inbox" 2>&1 && grep -q '"trains"' "$dir/a-inbox" &&
  ! grep -q 'isol-1' "$dir/a-inbox"
ok $? "station a's inbox does not show zz's train" "$dir/a-inbox"
code=$(c a/tls -o "$dir/body" -w '%{http_code}' -X POST "$url/v1/inbox/isol-1/ack")
[ "$code" = 404 ]
ok $? "station a cannot acknowledge zz's train (HTTP $code)"
code=$(c a/tls -o "$dir/body" -w '%{http_code}' \
  -d '{"round":1,"result":"x","log_head":{"seq":0,"hash":"00"}}' "$url/v1/trains/isol-1/results")
[ "$code" = 404 ]
ok $? "station a cannot post a result for zz's train (HTTP $code)"
c zz-tls "$url/v1/inbox?wait=0" >"$dir/zz-inbox" 2>&1 && grep -q 'isol-1' "$dir/zz-inbox"
ok $? "station zz sees its own train" "$dir/zz-inbox"

code=$(c eve-tls -o "$dir/body" -w '%{http_code}' "$url/v1/trains/$ana_train/results")
[ "$code" = 403 ] && ! grep -q '"results"' "$dir/body"
ok $? "analyst eve cannot read analyst ana's results (HTTP $code)"
code=$(c ana-tls -o "$dir/body" -w '%{http_code}' "$url/v1/trains/$ana_train/results")
[ "$code" = 200 ] && grep -q '"results"' "$dir/body"
ok $? "analyst ana reads her own results"

# ---- forged results: another station's, another train's ----
# zz's pinned key is station a's: so a's genuine old result verifies as zz's
mkdir -p "$dir/zz-keys"
cp "$dir/a/keys/a.sign.pub" "$dir/zz-keys/zz.sign.pub"
"$PHT" run "$here/count.lua" --config "$dir/analyst.json" --station-keys "$dir/zz-keys" \
  --stations zz --timeout 8s >"$dir/run7.json" 2>"$dir/run7.err" &
run_pid=$!
bg_pids+=("$run_pid")
zz_train() { c zz-tls "$url/v1/inbox?wait=1" 2>/dev/null | grep -o '"train":"[0-9a-f]\{32\}"' | head -n 1 | cut -d'"' -f4; }
t7=""
got_zz() { t7=$(zz_train); [ -n "$t7" ]; }
wait_until 20 got_zz
c ana-tls "$url/v1/trains/$ana_train/results" >"$dir/old-results.json" 2>/dev/null
lua5.4 "$here/forge.lua" "$SRC/tests/trains" 1 a <"$dir/old-results.json" >"$dir/forged.json" 2>"$dir/forge.err"
code=$(c zz-tls -o "$dir/body" -w '%{http_code}' --data-binary @"$dir/forged.json" "$url/v1/trains/$t7/results")
for _ in $(seq 1 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ "$code" = 201 ] && [ $rc -eq 3 ] && grep -q "result from zz refused: the signed result is for train $ana_train round 1 at a, not train $t7" "$dir/run7.err"
ok $? "a genuine result of another train and station, re-posted, is refused and reported" "$dir/run7.err"
grep -q 'round 1: station zz has not answered yet' "$dir/run7.err" && [ ! -s "$dir/run7.json" ] &&
  grep -q 'stopped waiting in round 1' "$dir/run7.err"
ok $? "the station that did not answer by the deadline is named; pht run stopped waiting (exit 3)" "$dir/run7.err"

"$PHT" run "$here/count.lua" --config "$dir/analyst.json" --station-keys "$dir/zz-keys" \
  --stations zz --timeout 5s >"$dir/run8.json" 2>"$dir/run8.err" &
run_pid=$!
bg_pids+=("$run_pid")
t8=""
got_zz2() { t8=$(zz_train | grep -v "^$t7\$" | head -n 1); [ -n "$t8" ]; }
wait_until 20 got_zz2
lua5.4 "$here/forge.lua" "$SRC/tests/trains" 1 b <"$dir/old-results.json" >"$dir/forged.json" 2>"$dir/forge.err"
code=$(c zz-tls -o "$dir/body" -w '%{http_code}' --data-binary @"$dir/forged.json" "$url/v1/trains/$t8/results")
for _ in $(seq 1 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ "$code" = 201 ] && [ $rc -eq 3 ] && grep -q "result from zz refused: envelope: unknown signer" "$dir/run8.err"
ok $? "a result signed by a key that is not pinned is refused and reported" "$dir/run8.err"

mkdir -p "$dir/mixed-keys"
cp "$dir/a/keys/a.sign.pub" "$dir/mixed-keys/"
cp "$dir/eve-keys/eve.sign.pub" "$dir/mixed-keys/zz.sign.pub"
"$PHT" run "$here/count.lua" --config "$dir/analyst.json" --station-keys "$dir/mixed-keys" \
  --stations a,zz --min-stations 1 --timeout 5s >"$dir/run9.json" 2>"$dir/run9.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"stations":1' "$dir/run9.json" && grep -q 'station zz, round 1: no answer' "$dir/run9.err"
ok $? "--min-stations 1: the run goes on without the silent station and names it" "$dir/run9.err"

"$PHT" run "$here/count.lua" --config "$dir/analyst.json" --stations all --datasets colon \
  >"$dir/all.json" 2>"$dir/all.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"stations":3' "$dir/all.json" &&
  grep -q 'station zz has no pinned key' "$dir/all.err"
ok $? "--stations all: every listed station with a pinned key (zz, unpinned, left out)" "$dir/all.err"

# ---- usage errors ----
"$PHT" run "$here/count.lua" >/dev/null 2>"$dir/usage.err"
[ $? -eq 2 ] && grep -q 'give TRAIN.lua, --node' "$dir/usage.err"
ok $? "pht run without the node options: exit 2, says what is missing" "$dir/usage.err"
echo '{"node": "https://127.0.0.1:1", "sign_keys": "x"}' >"$dir/bad-analyst.json"
"$PHT" run "$here/count.lua" --config "$dir/bad-analyst.json" >/dev/null 2>"$dir/usage.err"
[ $? -eq 2 ] && grep -q 'unknown field "sign_keys"' "$dir/usage.err"
ok $? "ANALYST.json with an unknown field: exit 2, names it" "$dir/usage.err"
grep -v '"node":' "$dir/a/station.json" | sed 's/"seen_ids": "seen-ids",/"seen_ids": "seen-ids"}/' >"$dir/a/nonode.json"
"$PHT" station run --config "$dir/a/nonode.json" >/dev/null 2>"$dir/usage.err"
[ $? -ne 0 ] && grep -q 'no node section' "$dir/usage.err"
ok $? "pht station run without a node section refuses to start and says why" "$dir/usage.err"

# ---- a replayed envelope ----
"$PHT" train sign "$here/count.lua" --key "$dir/ana-keys/ana.sign.key" --stations a \
  --datasets colon --expires 1h --out "$dir/replay.signed" >"$dir/sign.err" 2>&1
ok $? "pht train sign makes an envelope for station a" "$dir/sign.err"
post_env() { # post_env NODE-TRAIN-ID FILE  (the envelope is compact JSON without backslashes)
  local env
  env=$(tr -d '\n' <"$2" | sed 's/"/\\"/g')
  c ana-tls -o /dev/null -w '%{http_code}' \
    -d "{\"train\":\"$1\",\"round\":1,\"stations\":[\"a\"],\"envelope\":\"$env\"}" "$url/v1/trains"
}
has_result() { c ana-tls "$url/v1/trains/$1/results" 2>/dev/null | grep -q '"station":"a"'; }
code1=$(post_env replay-1 "$dir/replay.signed")
wait_until 30 has_result replay-1
r1=$?
code2=$(post_env replay-2 "$dir/replay.signed")
wait_until 30 has_result replay-2
r2=$?
[ "$code1" = 201 ] && [ $r1 -eq 0 ] && [ "$code2" = 201 ] && [ $r2 -eq 0 ]
ok $? "the same envelope posted twice under two ids: station a answers both" "$dir/a/daemon.log"
[ "$(grep -c '"event":"released"' "$dir/a/audit.log")" -ge 1 ] &&
  grep '"event":"rejected"' "$dir/a/audit.log" | grep -q 'seen before'
ok $? "the second arrival is refused as a replay and logged" "$dir/a/daemon.log"

# ---- the node killed (kill -9) in the middle of a run ----
"$PHT" run "$SRC/trains/std/glm.lua" --config "$dir/analyst.json" --stations a,b,c \
  --params "$GLM_PARAMS" >"$dir/run2.json" 2>"$dir/run2.err" &
run_pid=$!
bg_pids+=("$run_pid")
wait_until 60 grep -q 'round 2: train' "$dir/run2.err"
kill -KILL "$node_pid"; wait "$node_pid" 2>/dev/null
sleep 1
"$PHT" node serve --config "$dir/node-fixed.json" 2>>"$dir/node.log" &
node_pid=$!
rc=1
for _ in $(seq 1 900); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ $rc -eq 0 ] && same_result "$dir/sim.json" "$dir/run2.json"
ok $? "kill -9 of the node in round 2, restart: the run completes with the pht sim result" "$dir/run2.err"
grep -q 'retrying' "$dir/run2.err" "$dir"/[abc]/daemon.log
ok $? "clients noticed the node was away and retried"

# ---- a station killed (kill -9) in the middle of a train ----
"$PHT" run "$here/count.lua" --config "$dir/analyst.json" --stations a,b,c \
  --params '{"spin": 150000000}' --min-stations 2 --timeout 60s >"$dir/run3.json" 2>"$dir/run3.err" &
run_pid=$!
bg_pids+=("$run_pid")
t3=""
got_it() { t3=$(sed -n 's/.*round 1: train \([0-9a-f]*\) sent.*/\1/p' "$dir/run3.err"); [ -n "$t3" ] &&
  grep -q "train $t3 round 1 from analyst ana: received" "$dir/c/daemon.log"; }
wait_until 30 got_it
kill -KILL "${st_pid[c]}"; wait "${st_pid[c]}" 2>/dev/null
start_station c
for _ in $(seq 1 900); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ $rc -eq 0 ] && grep -q '"n":' "$dir/run3.json"
ok $? "station c killed mid-train: the run still completes" "$dir/run3.err"
grep -q "train $t3 round 1 was interrupted by a stop" "$dir/c/daemon.log" &&
  grep '"event":"released"' "$dir/c/audit.log" | grep -q "$t3" && grep -q '"stations":3' "$dir/run3.json"
ok $? "station c came back, finished the interrupted train from its log and answered" "$dir/c/daemon.log"
"$PHT" audit verify "$dir/c/audit.log" --station-key "$dir/c/keys/c.sign.pub" >"$dir/verify.out" 2>&1
ok $? "station c's audit log still verifies" "$dir/verify.out"

# ---- review signers: the approval queue ----
cat >"$dir/eve.json" <<EOF
{"node": "$url", "cert": "eve-tls/cert.pem", "key": "eve-tls/key.pem", "ca": "eve-tls/ca.pem",
 "sign_key": "eve-keys/eve.sign.key", "station_keys": "station-keys", "timeout": "60s"}
EOF
"$PHT" run "$here/count.lua" --config "$dir/eve.json" --stations a --datasets colon \
  --params '{"spin": 1}' >"$dir/run4.json" 2>"$dir/run4.err" &
run_pid=$!
bg_pids+=("$run_pid")
queued() { "$PHT" station queue --config "$dir/a/station.json" >"$dir/queue.out" 2>&1 && grep -q pending "$dir/queue.out"; }
wait_until 30 queued
ok $? "a train signed by a review signer waits in station a's queue" "$dir/queue.out"
grep -q 'signer     eve' "$dir/queue.out" && grep -q 'name       count' "$dir/queue.out" &&
  grep -q 'datasets   colon' "$dir/queue.out"
ok $? "pht station queue shows signer, name, code hash and datasets" "$dir/queue.out"
qid=$(head -n 1 "$dir/queue.out" | cut -d' ' -f1)
"$PHT" station approve --config "$dir/a/station.json" "$qid" --by dora >"$dir/approve.out" 2>&1
ok $? "pht station approve $qid --by dora" "$dir/approve.out"
for _ in $(seq 1 900); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ $rc -eq 0 ] && grep -q '"stations":1' "$dir/run4.json"
ok $? "the approved train runs and eve gets her result" "$dir/run4.err"
grep '"event":"approved"' "$dir/a/audit.log" | grep -q '"by":"dora"'
ok $? "the approval is in the audit log with who approved"
"$PHT" station approve --config "$dir/a/station.json" "$qid" >"$dir/approve2.out" 2>&1
[ $? -eq 1 ]
ok $? "a train cannot be decided twice" "$dir/approve2.out"

"$PHT" run "$here/count.lua" --config "$dir/eve.json" --stations a --datasets colon \
  --params '{"spin": 2}' >"$dir/run5.json" 2>"$dir/run5.err" &
run_pid=$!
bg_pids+=("$run_pid")
wait_until 30 queued
qid=$(head -n 1 "$dir/queue.out" | cut -d' ' -f1)
"$PHT" station refuse --config "$dir/a/station.json" "$qid" --by dora >"$dir/refuse.out" 2>&1
for _ in $(seq 1 900); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ $rc -eq 1 ] && grep -q 'refused by the station' "$dir/run5.err" && [ ! -s "$dir/run5.json" ]
ok $? "a refused train gets eve a signed refusal (pht run exit $rc)" "$dir/run5.err"

# ---- a tampered envelope in the node's mailbox ----
for s in a b c; do
  kill -TERM "${st_pid[$s]}"
done
clean=0
for s in a b c; do
  for _ in $(seq 1 300); do kill -0 "${st_pid[$s]}" 2>/dev/null || break; sleep 0.1; done
  wait "${st_pid[$s]}" || clean=1
  unset "st_pid[$s]"
done
ok $clean "SIGTERM stops the three station daemons cleanly (exit 0)"

"$PHT" run "$here/count.lua" --config "$dir/analyst.json" --stations a,b,c \
  --datasets colon --timeout 40s >"$dir/run6.json" 2>"$dir/run6.err" &
run_pid=$!
bg_pids+=("$run_pid")
t6=""
posted() { t6=$(sed -n 's/.*round 1: train \([0-9a-f]*\) sent.*/\1/p' "$dir/run6.err"); [ -n "$t6" ]; }
wait_until 30 posted
sqlite3 "$dir/node.db" ".timeout 5000" \
  "UPDATE envelopes SET body = CAST(replace(CAST(body AS TEXT), '\"payload\":\"eyJ', '\"payload\":\"eyK') AS BLOB) WHERE train = '$t6';" \
  >"$dir/sql.out" 2>&1
[ -n "$t6" ] && [ "$(sqlite3 "$dir/node.db" ".timeout 5000" "SELECT count(*) FROM envelopes WHERE train = '$t6' AND CAST(body AS TEXT) LIKE '%\"payload\":\"eyK%';")" = 1 ]
ok $? "the envelope of train ${t6:-?} edited in the node's SQLite mailbox" "$dir/sql.out"
for s in a b c; do start_station $s; done
for _ in $(seq 1 900); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid"; rc=$?
[ $rc -eq 1 ] && [ "$(grep -c 'bad signature' "$dir/run6.err")" -ge 3 ] && [ ! -s "$dir/run6.json" ]
ok $? "every station refuses the tampered train and says so in a signed result (exit $rc)" "$dir/run6.err"
bad=0
for s in a b c; do
  grep '"event":"rejected"' "$dir/$s/audit.log" | grep -q 'bad signature' || bad=1
done
ok $bad "each station logged the tampered envelope as rejected"

# ---- every standard train: the federation equals pht sim ----
std_params() {
  case $1 in
    count) echo '{"by":"rx"}' ;;
    crosstab) echo '{"rows":"rx","cols":"sex"}' ;;
    # nodes has 2 or 3 missing values at each station and the age bins
    # reach the tails: the runtime withholds nodes' figures and complements
    # the bins before it records them, so the output is released
    summary) echo '{"columns":["age","nodes","sex"],"histograms":{"age":{"from":10,"to":90,"width":10}}}' ;;
    km) echo '{"time":"time","event":"status","group":"rx"}' ;;
    cox) echo '{"time":"time","event":"status","covariates":["rx","sex","age"]}' ;;
    outcomes) echo '{"treatment":"rx","os_time":"time","os_event":"status","pfs_time":"","response":"","ae":"obstruct","cost":"nodes"}' ;;
  esac
}
for t in count crosstab summary km cox outcomes; do
  "$PHT" sim "$SRC/trains/std/$t.lua" --station "a=$dir/a/data/colon.csv" \
    --station "b=$dir/b/data/colon.csv" --station "c=$dir/c/data/colon.csv" \
    --params "$(std_params $t)" >"$dir/std_$t.sim.json" 2>"$dir/std_$t.sim.err" &&
  "$PHT" run "$SRC/trains/std/$t.lua" --config "$dir/analyst.json" --stations a,b,c \
    --params "$(std_params $t)" >"$dir/std_$t.run.json" 2>"$dir/std_$t.run.err" &&
  [ -s "$dir/std_$t.run.json" ] && cmp -s "$dir/std_$t.sim.json" "$dir/std_$t.run.json"
  ok $? "$t.lua: pht run through the federation gives pht sim's result byte for byte" "$dir/std_$t.run.err"
done

# ---- stop everything; nothing the sanitizers (if built in) reported ----
clean=0
for s in a b c; do
  kill -TERM "${st_pid[$s]}"
  for _ in $(seq 1 300); do kill -0 "${st_pid[$s]}" 2>/dev/null || break; sleep 0.1; done
  wait "${st_pid[$s]}" || clean=1
  unset "st_pid[$s]"
done
ok $clean "the station daemons stop cleanly again after the restarts"
! grep -l 'Sanitizer\|runtime error' "$dir"/*.err "$dir"/[abc]/daemon.log >"$dir/san.out" 2>/dev/null
ok $? "no sanitizer report from pht run or the station daemons" "$dir/san.out"

done_testing
