#!/usr/bin/env bash
# station_small.sh — a station whose dataset holds fewer than k rows, through
# a real node and three station daemons: it declines every round with the
# category "refused: too few rows" (no count, no value); pht run without
# --min-stations fails and suggests it; with --min-stations 2 the run
# completes on the others, equals pht sim on them alone, and the result's
# "participation" names the station that declined and why. pht sim says the
# same. Prints TAP.
. "$(dirname "$0")/../faults/lib.sh"

trap 'stop_stations; cleanup' EXIT

COX='{"time":"time","event":"status","covariates":["rx","sex","age"]}'
command -v lua5.4 >/dev/null || { echo "1..0 # SKIP lua5.4 not installed"; exit 0; }

echo "1..13"
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
  if [ $s = c ]; then   # the header and 3 patients: fewer than k = 5
    head -4 "$SRC/tests/reference/data/colon/station$i.csv" >"$dir/$s/data/colon.csv"
  else
    cp "$SRC/tests/reference/data/colon/station$i.csv" "$dir/$s/data/colon.csv"
  fi
  cp "$SRC/tests/reference/data/colon/station$i.dict.json" "$dir/$s/data/colon.dict.json"
  cp "$dir/$s/keys/$s.sign.pub" "$dir/station-keys/"
  cat >"$dir/$s/station.json" <<EOF2
{"station": "$s",
 "datasets": {"colon": {"csv": "data/colon.csv", "dict": "data/colon.dict.json"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"}],
 "policy": {"k": 5},
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
run() { # run OUT ARGS...: pht run of cox on a, b, c
  local out=$1; shift
  "$PHT" run "$SRC/trains/std/cox.lua" --config "$dir/analyst.json" --stations a,b,c \
    --params "$COX" "$@" >"$out" 2>"$out.err"
}

run "$dir/all.json"
rc=$?
[ $rc -eq 1 ] && grep -q 'round 1: 2 of 3 stations released a result, 3 needed (--min-stations 2 goes on without the others); no result from: c (rejected: refused: too few rows' "$dir/all.json.err"
ok $? "without --min-stations the run fails (exit $rc), names c's reason and suggests --min-stations 2" "$dir/all.json.err"

run "$dir/run.json" --min-stations 2
ok $? "with --min-stations 2 the run completes on a and b" "$dir/run.json.err"
grep -q 'round 1: station c: rejected: refused: too few rows: dataset colon holds fewer rows than the station.s k = 5' "$dir/run.json.err"
ok $? "stderr says c declined: too few rows, dataset colon, k = 5" "$dir/run.json.err"
reason=$(get "$dir/run.json" participation.1.missing.1.reason)
[ "$(get "$dir/run.json" participation.1.included)" = '["a","b"]' ] &&
  [ "$(get "$dir/run.json" participation.1.missing.1.station)" = c ] &&
  case $reason in "rejected: refused: too few rows: "*) true ;; *) false ;; esac
ok $? "the result's participation: round 1 included a, b; missing c with its category ($reason)" "$dir/run.json"
case $reason in *[0-46-9]" rows"*|*" 3 "*|*"= 3"*) false ;; *) true ;; esac
ok $? "the reason gives no row count (only k)"
p3=$(get "$dir/run.json" participation.3)
[ "$p3" != nil ] && [ "$(get "$dir/run.json" participation.2.missing.1.reason)" = "left the run in round 1" ]
ok $? "every round has its entry; later rounds say c left the run in round 1" "$dir/run.json"
run "$dir/run.table" --min-stations 2 --format table &&
  grep -q '^Stations missing:$' "$dir/run.table" &&
  grep -q "^  c: round 1: rejected: refused: too few rows: dataset colon holds fewer rows than the station's k = 5" "$dir/run.table" &&
  grep -q '^Stations included: a, b$' "$dir/run.table" && grep -q '^ *coef *exp(coef) *se(coef) ' "$dir/run.table"
ok $? "pht run --format table prints the fit and says c was missing and why" "$dir/run.table"
grep -q '"event":"rejected".*too few rows' "$dir/c/audit.log" 2>/dev/null ||
  grep -q 'too few rows' "$dir/c/audit.log"
ok $? "c's audit log records the refusal" "$dir/c/audit.log"

sim() { # sim OUT STATION... [-- ARGS]: pht sim of cox on the stations' files
  local out=$1 args=() s; shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--station "$1=$dir/$1/data/colon.csv"); shift; done
  [ $# -gt 0 ] && shift
  "$PHT" sim "$SRC/trains/std/cox.lua" "${args[@]}" --params "$COX" "$@" >"$out" 2>"$out.err"
}
sim "$dir/ab.json" a b
lua5.4 "$SRC/tests/trains/check.lua" same-coefs "$dir/run.json" "$dir/ab.json" coef 1e-9 >"$dir/cmp" 2>&1
ok $? "the coefficients and standard errors equal pht sim on a and b alone (1e-9)" "$dir/cmp"

sim "$dir/sim_all.json" a b c
[ $? -eq 1 ] && grep -q -- '--min-stations 2 goes on without the others' "$dir/sim_all.json.err"
ok $? "pht sim on a, b, c without --min-stations fails the same way" "$dir/sim_all.json.err"
sim "$dir/sim.json" a b c -- --min-stations 2 &&
  [ "$(get "$dir/sim.json" participation.1.missing.1.reason)" = "$(get "$dir/run.json" participation.1.missing.1.reason | sed 's/ (audit entry.*//')" ]
ok $? "pht sim --min-stations 2 completes and gives c the same reason (without the audit reference)" "$dir/sim.json.err"
