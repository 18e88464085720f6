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
. "$here/fedlib.sh"

rm -rf "$dir"; mkdir -p "$dir"
data=$(cd "$dir" && pwd)/data
"$(dirname "$PHT")/../registry/pht-registry-gen" --out "$data" --hospitals $nst \
  --rows-per-hospital 1000 >"$dir/gen.log" 2>&1
fed_start "$PHT" "$dir" "$nst" "$data" '{"k": 5, "limits": {"time_seconds": 60}}'

stations=$fed_stations
simst=()
for i in $(seq -f %02g 1 $nst); do simst+=(--station "s$i=$data/hospital_$i.csv"); done
for r in $(seq 1 "$reps"); do
  for rounds in 1 5; do
    t0=$(fed_ticks)
    "$LOADB" exec net.round$rounds -o "$dir/result.json" -e "$dir/run.log" \
      "$PHT" run "$here/trains/rounds.lua" --config "$dir/analyst.json" \
      --stations "$stations" --params "{\"rounds\": $rounds}"
    t1=$(fed_ticks)
    awk -v m="net.round$rounds.fed_cpu_seconds" -v t=$((t1 - t0)) -v hz="$fed_hz" \
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
