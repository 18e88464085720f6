#!/usr/bin/env bash
# nodescale.sh — benchmark 6: N simulated stations long-polling one node on 127.0.0.1.
# Usage: bench/nodescale.sh PHT PHT_BENCH_NODESCALE OUTDIR N REPS
# Issues N station certificates once (kept in OUTDIR/pki), starts a node
# (pht node serve), runs pht-bench-nodescale against it and stops the node.
set -euo pipefail
PHT=$1; GEN=$2; dir=$3; n=$4; reps=$5
node_pid=""
stop_node() {
  local i
  [ -n "$node_pid" ] || return 0
  kill -TERM "$node_pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
}
trap stop_node EXIT

pki="$dir/pki"
if [ ! -f "$pki/done-$n" ]; then
  rm -rf "$pki"; mkdir -p "$pki"
  {
    "$PHT" pki init --out "$pki/ca"
    "$PHT" pki issue --ca "$pki/ca" --role node --name node --out "$pki/node-tls"
    "$PHT" pki issue --ca "$pki/ca" --role analyst --name ana --out "$pki/ana"
    seq -f %04g 1 "$n" | xargs -P 2 -I{} \
      "$PHT" pki issue --ca "$pki/ca" --role station --name "s{}" --out "$pki/stations/s{}"
  } >"$dir/pki.log" 2>&1
  touch "$pki/done-$n"
fi

rm -f "$dir/node.db"* "$dir/port"
cat >"$dir/node.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "cert": "pki/node-tls/cert.pem", "key": "pki/node-tls/key.pem",
 "ca": "pki/node-tls/ca.pem", "database": "node.db",
 "limits": {"max_wait": 30, "timeout": 60, "results_batch": 10000}}
JSON
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>"$dir/node.log" &
node_pid=$!
for i in $(seq 1 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
"$GEN" "https://127.0.0.1:$(cat "$dir/port")" "$pki/ca/ca.pem" "$pki/ana" "$pki/stations" \
  "$n" "$reps" "$node_pid"
