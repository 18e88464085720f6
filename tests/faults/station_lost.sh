#!/usr/bin/env bash
# station_lost.sh — a station lost after round 1 of a Cox run through a real
# node and three station daemons: pht run --min-stations 2 goes on without
# it, the fit restarts on the other two and equals pht sim on them alone,
# and the result names the stations it covers and the one that dropped out.
# Station c's query budget allows one release, so it answers round 1 and
# refuses every later round: the loss comes at a chosen round, not by a race.
# Prints TAP.
. "$(dirname "$0")/lib.sh"

trap 'stop_stations; cleanup' EXIT

COX='{"time":"time","event":"status","covariates":["rx","sex","age"]}'
command -v lua5.4 >/dev/null || { echo "1..0 # SKIP lua5.4 not installed"; exit 0; }

echo "1..10"
fed_pki "$dir" "a b c"
ok $? "PKI and keys for a node, an analyst and stations a, b, c" "$dir/setup.log"
node_config node.db
start_node
ok $? "node listening" "$dir/node.log"

mkdir -p "$dir/station-keys"
i=0
for s in a b c; do
  i=$((i + 1))
  mkdir -p "$dir/$s/data"
  cp "$SRC/tests/reference/data/colon/station$i.csv" "$dir/$s/data/colon.csv"
  cp "$SRC/tests/reference/data/colon/station$i.dict.json" "$dir/$s/data/colon.dict.json"
  cp "$dir/$s/keys/$s.sign.pub" "$dir/station-keys/"
  budget=""
  [ $s = c ] && budget=', "budget": {"releases": 1, "window_hours": 24}'
  cat >"$dir/$s/station.json" <<EOF2
{"station": "$s",
 "datasets": {"colon": {"csv": "data/colon.csv", "dict": "data/colon.dict.json"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"}],
 "policy": {"k": 5$budget},
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF2
  "$PHT" station run --config "$dir/$s/station.json" --wait 2 --backoff-max 1 2>>"$dir/$s/daemon.log" &
  spid[$s]=$!
done
cat >"$dir/analyst.json" <<EOF2
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ana-tls/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "timeout": "60s"}
EOF2

sim() { # sim OUT STATION...: pht sim of cox on the stations' files
  local out=$1 args=() s; shift
  for s in "$@"; do args+=(--station "$s=$dir/$s/data/colon.csv"); done
  "$PHT" sim "$SRC/trains/std/cox.lua" "${args[@]}" --params "$COX" >"$out" 2>"$out.err"
}
sim "$dir/ab.json" a b && sim "$dir/abc.json" a b c
ok $? "pht sim of cox on a and b alone, and on a, b and c" "$dir/ab.json.err"

"$PHT" run "$SRC/trains/std/cox.lua" --config "$dir/analyst.json" --stations a,b,c \
  --min-stations 2 --params "$COX" >"$dir/run.json" 2>"$dir/run.err"
ok $? "pht run of cox on a, b, c with --min-stations 2 completes" "$dir/run.err"
grep -q 'round 1: 3/3 stations answered, 0 errors' "$dir/run.err" &&
  grep -q 'round 2: station c: rejected: .*query budget exhausted' "$dir/run.err"
ok $? "c answered round 1 and dropped out in round 2 (its budget refused it)" "$dir/run.err"
grep -q 'round 3: train [0-9a-f]* sent to 2 stations' "$dir/run.err"
ok $? "the run went on with a and b" "$dir/run.err"

lua5.4 "$SRC/tests/trains/check.lua" same-coefs "$dir/run.json" "$dir/ab.json" coef 1e-9 >"$dir/cmp" 2>&1
ok $? "the coefficients and standard errors equal pht sim on a and b alone (1e-9)" "$dir/cmp"
lr=$(get "$dir/run.json" lr_test.chisq)
[ -n "$lr" ] && [ "$lr" = "$(get "$dir/ab.json" lr_test.chisq)" ] &&
  [ "$(get "$dir/run.json" loglik)" = "$(get "$dir/ab.json" loglik)" ] &&
  [ "$(get "$dir/run.json" iterations)" = "$(get "$dir/ab.json" iterations)" ]
ok $? "the LR test ($lr), log likelihoods and iterations equal those on a and b alone (a, b, c: $(get "$dir/abc.json" lr_test.chisq))"
[ "$(get "$dir/run.json" stations.1.id),$(get "$dir/run.json" stations.2.id),$(get "$dir/run.json" stations.3)" = "a,b,nil" ] &&
  [ "$(get "$dir/run.json" stations_dropped)" = '[{"id":"c","round":2}]' ]
ok $? "the result covers a and b and says c dropped out in round 2" "$dir/run.json"
lua5.4 "$SRC/tests/trains/check.lua" has-note "$dir/run.json" "the result covers stations a, b only, not c" 2>"$dir/e"
ok $? "a note says so" "$dir/e"
