#!/usr/bin/env bash
# checks.sh — errors the analyst can act on, without data in them: pht run
# checks a train's params against its declaration and the stations'
# published dictionaries before anything is sent; a metadata error only a
# station can see comes back precisely; a data-dependent failure comes back
# as the one answer. A node and two station daemons on 127.0.0.1. Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
. "$(dirname "$0")/../lib.sh"
need curl

dir=$(mktemp -d /tmp/pht-checks-XXXXXX)
node_pid=""
declare -A st_pid=()

cleanup() {
  local s
  for s in "${!st_pid[@]}"; do stop "${st_pid[$s]}"; done
  stop "$node_pid"
}
keep_on_failure "$dir"
at_exit cleanup
std="$SRC/trains/std"

# ---- PKI, keys, data, a node and stations a and b (x is exec'd by hand) ----
fed_pki "$dir" "a b x"
ok $? "PKI and keys for a node, stations a, b and x, and an analyst" "$dir/setup.log"
mkdir -p "$dir/station-keys"
i=0
for s in a b x; do
  i=$((i + 1))
  cp "$dir/$s/keys/$s.sign.pub" "$dir/station-keys/"
  mkdir -p "$dir/$s/data"
  cp "$SRC/tests/reference/data/colon/station$i.csv" "$dir/$s/data/colon.csv"
  cp "$SRC/tests/reference/data/colon/station$i.dict.json" "$dir/$s/data/colon.dict.json"
done
cat >"$dir/node.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 10, "timeout": 60}}
JSON
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 10 test -s "$dir/port"
ok $? "node listening" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"
for s in a b x; do
  cat >"$dir/$s/station.json" <<JSON
{"station": "$s",
 "datasets": {"colon": {"csv": "data/colon.csv", "dict": "data/colon.dict.json"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"}],
 "policy": {"k": 5, "limits": {"time_seconds": 60}},
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
JSON
done
for s in a b; do
  "$PHT" station run --config "$dir/$s/station.json" --wait 20 --backoff-max 1 \
    2>>"$dir/$s/daemon.log" &
  st_pid[$s]=$!
done
cat >"$dir/analyst.json" <<JSON
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ana-tls/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "timeout": "60s"}
JSON
listed() {
  "$PHT" stations --config "$dir/analyst.json" >"$dir/stations.out" 2>&1 &&
  [ "$(grep -c 'colon (14)' "$dir/stations.out")" -eq 2 ]
}
wait_until 20 listed
ok $? "a and b publish their dictionaries" "$dir/stations.out"

run() {  # run NAME TRAIN ARGS...: pht run to a and b, output in $dir/NAME.{json,err}
  local name=$1 train=$2
  shift 2
  "$PHT" run "$train" --config "$dir/analyst.json" --stations a,b "$@" \
    >"$dir/$name.json" 2>"$dir/$name.err"
}
received() {  # the trains a station's audit log has received
  grep -c '"event":"received"' "$dir/$1/audit.log" 2>/dev/null
}
before_a=$(received a)

# ---- what a train declares, read without data ----
"$PHT" train describe "$std/count.lua" >"$dir/describe.out" 2>&1 &&
  head -n 1 "$dir/describe.out" | grep -qx 'count 2.0.0' &&
  grep -q '^  by *a column name (an integer, category or boolean column); optional$' "$dir/describe.out" &&
  grep -q '^releases:$' "$dir/describe.out"
ok $? "pht train describe prints name, version, params with types and what a station releases" "$dir/describe.out"
"$PHT" sim "$std/count.lua" --station "a=$dir/a/data/colon.csv" --params '{"by":"sexx"}' --check \
  >"$dir/simcheck.out" 2>"$dir/simcheck.err"
[ $? -eq 2 ] && grep -qF 'by: column "sexx" is not in dataset colon at a; did you mean "sex"?' "$dir/simcheck.err" &&
  ! grep -q 'round 1' "$dir/simcheck.err"
ok $? "pht sim --check: the CSV's dictionary, nothing run" "$dir/simcheck.err"

# ---- caught before sending, with messages the analyst can act on ----
run stagee "$std/count.lua" --params '{"by":"sexx"}'
rc=$?
[ $rc -eq 2 ] &&
  grep -qF 'by: column "sexx" is not in dataset colon at a; did you mean "sex"?' "$dir/stagee.err" &&
  grep -qF 'by: column "sexx" is not in dataset colon at b; did you mean "sex"?' "$dir/stagee.err" &&
  ! grep -q 'sent' "$dir/stagee.err"
ok $? "a misspelled column: caught before sending, at each station, with a suggestion (exit $rc)" "$dir/stagee.err"
run missing "$std/crosstab.lua" --params '{"rows":"sex"}'
[ $? -eq 2 ] && grep -qF 'missing param "cols" (required)' "$dir/missing.err" && ! grep -q 'sent' "$dir/missing.err"
ok $? "a missing required param: caught before sending" "$dir/missing.err"
run wrongtype "$std/cox.lua" --params '{"time":"time","event":"status","covariates":["age"],"max_iter":"20"}'
[ $? -eq 2 ] && grep -qF 'max_iter must be an integer, not a string' "$dir/wrongtype.err" &&
  ! grep -q 'sent' "$dir/wrongtype.err"
ok $? "a param of the wrong JSON type: caught before sending" "$dir/wrongtype.err"
run coltype "$std/km.lua" --params '{"time":"sex","event":"status"}'
[ $? -eq 2 ] &&
  grep -qF 'time: column "sex" of dataset colon at a is a category column; time takes a number or integer column' "$dir/coltype.err"
ok $? "a column of the wrong type: caught before sending" "$dir/coltype.err"
run unknown "$std/count.lua" --params '{"by":"sex","secure":true}'
[ $? -eq 2 ] && grep -qF 'unknown param "secure"; count takes columns, by, k' "$dir/unknown.err"
ok $? "an unknown param is an error naming the known ones" "$dir/unknown.err"
run typo "$std/glm.lua" --params '{"outcome":"status","covariates":["age"],"famliy":"binomial"}'
[ $? -eq 2 ] && grep -qF 'unknown param "famliy"; did you mean "family"?' "$dir/typo.err"
ok $? "a misspelled optional param is an error with a suggestion" "$dir/typo.err"
printf '{"time":"time","event":"status","covariates":["age","sex"]}\n' >"$dir/cox-params.json"
run check "$std/cox.lua" --params "@$dir/cox-params.json" --check
[ $? -eq 0 ] && grep -qF 'the params fit the train and the dictionaries of the 2 stations' "$dir/check.err" &&
  ! grep -q 'sent' "$dir/check.err" && [ ! -s "$dir/check.json" ]
ok $? "pht run --check --params @FILE: the checks pass and nothing is sent" "$dir/check.err"
sleep 1
[ "$(received a)" = "$before_a" ]
ok $? "station a received none of these trains" "$dir/a/audit.log"

# ---- metadata errors only a station can see come back precisely ----
cat >"$dir/direct.lua" <<'LUA'
-- names a column directly, not through a declared param
return { name = "direct", version = "1.0.0",
  station = function(data, params, round) return { n = data:column("stagee"):count() } end,
  combine = function(results) return { done = true, result = #results } end }
LUA
run direct "$dir/direct.lua"
[ $? -ne 0 ] && grep -q "station a, round 1: failed: train error: .*no column 'stagee' in dataset colon" "$dir/direct.err" &&
  grep -q "station b, round 1: failed: train error: .*no column 'stagee' in dataset colon" "$dir/direct.err"
ok $? "a custom train naming a missing column: each station says so precisely" "$dir/direct.err"
# the runtime's check of a declared train at the station, past pht run's
# checks (a train signed by hand), and a train's own refusal before data
"$PHT" train sign "$std/count.lua" --key "$dir/ana-keys/ana.sign.key" --stations x \
  --datasets colon --params '{"by":"sexx"}' --out "$dir/x1.signed" >/dev/null 2>"$dir/x1.sign.err"
"$PHT" station exec --config "$dir/x/station.json" "$dir/x1.signed" >"$dir/x1.out" 2>"$dir/x1.err"
grep -q "the analyst is told: failed: .*params: by: column 'sexx' is not in dataset colon; did you mean 'sex'?" "$dir/x1.err"
ok $? "at the station, a declared train's column check is told as it is" "$dir/x1.err"
"$PHT" train sign "$std/cox.lua" --key "$dir/ana-keys/ana.sign.key" --stations x --datasets colon \
  --params '{"time":"time","event":"status","covariates":["age"],"beta":[40]}' \
  --out "$dir/x2.signed" >/dev/null 2>"$dir/x2.sign.err"
"$PHT" station exec --config "$dir/x/station.json" "$dir/x2.signed" >"$dir/x2.out" 2>"$dir/x2.err"
grep -q "the analyst is told: failed: .*beta: set by combine between rounds; round 1 starts from the values the train fixes" "$dir/x2.err"
ok $? "a beta in round 1 sent past the checks: the train refuses it at the station, precisely" "$dir/x2.err"

# ---- a data-dependent failure stays the one answer ----
cat >"$dir/datadep.lua" <<'LUA'
-- fails only after reading data: its reason must not reach the analyst
return { name = "datadep", version = "1.0.0",
  station = function(data, params, round)
    local n = data:nrows()
    error("stagee: no such column (" .. n .. " rows)", 0)
  end,
  combine = function(results) return { done = true, result = #results } end }
LUA
run datadep "$dir/datadep.lua"
[ $? -ne 0 ] && grep -qF "station a, round 1: failed: the run produced no releasable result (details in the station's audit log)" "$dir/datadep.err" &&
  grep -qF "station b, round 1: failed: the run produced no releasable result (details in the station's audit log)" "$dir/datadep.err" &&
  ! grep -q "stagee\|rows)" "$dir/datadep.err"
ok $? "a failure after reading data comes back as the one answer, without its message" "$dir/datadep.err"

done_testing
