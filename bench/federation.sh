#!/usr/bin/env bash
# federation.sh — benchmark 4: a trivial train through a node and 10 station daemons on 127.0.0.1.
# Usage: bench/federation.sh PHT PHT_BENCH_LOAD OUTDIR REPS
# Sets up a PKI (pht pki), keys (pht keygen), a node (pht node serve) and 10
# stations (pht station run) on 1,000-row registry hospitals, then times
# REPS runs of `pht run trains/rounds.lua` with 1 round and with 5 rounds,
# start to printed result (metrics net.round1.* and net.round5.*, with
# fed_cpu_seconds: the CPU the node and the daemons spent meanwhile), and
# each time the same train on the same CSVs through `pht sim`, the
# no-network baseline (metrics netsim.round1.* and netsim.round5.*).
# BENCH_STATIONS sets the number of stations (default 10). Stops everything
# it started on exit.
set -euo pipefail
PHT=$1; LOADB=$2; dir=$3; reps=$4
here=$(cd "$(dirname "$0")" && pwd)
nst=${BENCH_STATIONS:-10}
pids=()

stop_all() {
  local p i
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap stop_all EXIT

wait_until() { # wait_until SECONDS CMD...
  local secs=$1 i; shift
  for i in $(seq 1 $((secs * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}

rm -rf "$dir"; mkdir -p "$dir/station-keys"
{
  "$PHT" pki init --out "$dir/ca"
  "$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls"
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls"
  "$PHT" keygen --name ana --out "$dir/ana-keys"
  "$(dirname "$PHT")/../registry/pht-registry-gen" --out "$dir/data" --hospitals $nst \
    --rows-per-hospital 1000
  for i in $(seq -f %02g 1 $nst); do
    s=s$i
    "$PHT" pki issue --ca "$dir/ca" --role station --name $s --out "$dir/$s/tls"
    "$PHT" keygen --name $s --out "$dir/$s/keys"
    cp "$dir/$s/keys/$s.sign.pub" "$dir/station-keys/"
  done
} >"$dir/setup.log" 2>&1

cat >"$dir/node.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 30, "timeout": 60}}
JSON
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
pids+=($!)
wait_until 10 test -s "$dir/port"
url="https://127.0.0.1:$(cat "$dir/port")"

for i in $(seq -f %02g 1 $nst); do
  s=s$i
  cat >"$dir/$s/station.json" <<JSON
{"station": "$s",
 "datasets": {"registry": {"csv": "../data/hospital_$i.csv", "dict": "../data/hospital_$i.dict.json"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"}],
 "policy": {"k": 5, "limits": {"time_seconds": 60}},
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
JSON
  "$PHT" station run --config "$dir/$s/station.json" --wait 30 --backoff-max 1 \
    2>>"$dir/$s/daemon.log" &
  pids+=($!)
done

cat >"$dir/analyst.json" <<JSON
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ana-tls/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "timeout": "120s"}
JSON
listed() {
  "$PHT" stations --config "$dir/analyst.json" >"$dir/stations.out" 2>/dev/null &&
    [ "$(grep -c 'registry' "$dir/stations.out")" -ge $nst ]
}
wait_until 30 listed || { echo "federation.sh: the stations did not come up" >&2; exit 1; }

# CPU ticks (user + system, reaped children included: the sandboxes) of the node
# and the station daemons so far
fed_ticks() {
  local p t=0
  for p in "${pids[@]}"; do
    t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat")))
  done
  echo $t
}
hz=$(getconf CLK_TCK)

stations=$(seq -f "s%02g" -s , 1 $nst)
simst=()
for i in $(seq -f %02g 1 $nst); do simst+=(--station "s$i=$dir/data/hospital_$i.csv"); done
for r in $(seq 1 "$reps"); do
  for rounds in 1 5; do
    t0=$(fed_ticks)
    "$LOADB" exec net.round$rounds -o "$dir/result.json" -e "$dir/run.log" \
      "$PHT" run "$here/trains/rounds.lua" --config "$dir/analyst.json" \
      --stations "$stations" --params "{\"rounds\": $rounds}"
    t1=$(fed_ticks)
    awk -v m="net.round$rounds.fed_cpu_seconds" -v t=$((t1 - t0)) -v hz="$hz" \
      'BEGIN { printf "%s\t%.9g\n", m, t / hz }'
    "$LOADB" exec netsim.round$rounds -o "$dir/sim-result.json" -e "$dir/sim.log" \
      "$PHT" sim "$here/trains/rounds.lua" "${simst[@]}" --params "{\"rounds\": $rounds}"
    for f in result.json sim-result.json; do
      grep -q "\"rounds\": *$rounds" "$dir/$f" || grep -q "\"rounds\":$rounds" "$dir/$f" ||
        { echo "federation.sh: unexpected result in $f: $(cat "$dir/$f")" >&2; exit 1; }
    done
    cmp -s <(tr -d ' \n' <"$dir/result.json") <(tr -d ' \n' <"$dir/sim-result.json") ||
      { echo "federation.sh: pht run and pht sim differ" >&2; exit 1; }
  done
done
