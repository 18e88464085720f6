# shellcheck shell=bash
# fedlib.sh — sourced by federation.sh (benchmark 4) and fedmodels.sh
# (benchmark 5 through the federation): a federation on 127.0.0.1.
#
# fed_start PHT DIR NST DATADIR POLICY_JSON
#   In DIR (new or emptied by the caller; data may live below it): a PKI
#   (pht pki), an analyst's TLS certificate and keys (pht keygen), a node (pht node serve), and NST station daemons
#   (pht station run) named s01, s02, ..., station sNN serving
#   DATADIR/hospital_NN.csv (with its .dict.json) as dataset "registry"
#   under POLICY_JSON (the station config's "policy" object), signer "ana"
#   in auto mode. Returns when `pht stations` lists all of them; then
#   DIR/analyst.json is the config for `pht run` and `pht stations`, and
#   fed_stations holds "s01,s02,...". DATADIR must be an absolute path.
# fed_ticks   CPU ticks (user + system, reaped children included: the
#             sandboxes) of the node and the daemons so far; fed_hz ticks a second.
# fed_stop    stops every process fed_start started (installed as the EXIT trap).
fed_pids=()
fed_stations=""
fed_hz=$(getconf CLK_TCK)

fed_stop() {
  local p i
  for p in "${fed_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${fed_pids[@]}"; do
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  fed_pids=()
}

fed_wait_until() { # fed_wait_until SECONDS CMD...
  local secs=$1 i; shift
  for i in $(seq 1 $((secs * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}

fed_ticks() {
  local p t=0
  for p in "${fed_pids[@]}"; do
    t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat")))
  done
  echo $t
}

fed_start() {
  local pht=$1 dir=$2 nst=$3 data=$4 policy=$5 i s url
  trap fed_stop EXIT
  mkdir -p "$dir/station-keys"
  {
    "$pht" pki init --out "$dir/ca"
    "$pht" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls"
    "$pht" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls"
    "$pht" keygen --name ana --out "$dir/ana-keys"
    for i in $(seq -f %02g 1 "$nst"); do
      s=s$i
      "$pht" pki issue --ca "$dir/ca" --role station --name $s --out "$dir/$s/tls"
      "$pht" keygen --name $s --out "$dir/$s/keys"
      cp "$dir/$s/keys/$s.sign.pub" "$dir/station-keys/"
    done
  } >"$dir/setup.log" 2>&1

  cat >"$dir/node.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 30, "timeout": 60}}
JSON
  "$pht" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
  fed_pids+=($!)
  fed_wait_until 10 test -s "$dir/port"
  url="https://127.0.0.1:$(cat "$dir/port")"

  for i in $(seq -f %02g 1 "$nst"); do
    s=s$i
    cat >"$dir/$s/station.json" <<JSON
{"station": "$s",
 "datasets": {"registry": {"csv": "$data/hospital_$i.csv", "dict": "$data/hospital_$i.dict.json"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"}],
 "policy": $policy,
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
JSON
    "$pht" station run --config "$dir/$s/station.json" --wait 30 --backoff-max 1 \
      2>>"$dir/$s/daemon.log" &
    fed_pids+=($!)
  done

  cat >"$dir/analyst.json" <<JSON
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ana-tls/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "timeout": "600s"}
JSON
  fed_stations=$(seq -f "s%02g" -s , 1 "$nst")
  fed_listed() {
    "$pht" stations --config "$dir/analyst.json" >"$dir/stations.out" 2>/dev/null &&
      [ "$(grep -c 'registry' "$dir/stations.out")" -ge "$nst" ]
  }
  fed_wait_until 30 fed_listed || { echo "fedlib.sh: the stations did not come up" >&2; return 1; }
}

# Benchmark 5's models (bench/run's `pht sim` part and fedmodels.sh use the
# same): Cox, Surv(os_days, os_event) ~ 6 covariates, stratified by station;
# GLM binomial, ae_grade3 ~ the same covariates.
bench_cov='["age","sex","ecog","ldh_elevated","line","braf"]'
bench_cox_params="{\"time\":\"os_days\",\"event\":\"os_event\",\"covariates\":$bench_cov}"
bench_glm_params="{\"family\":\"binomial\",\"outcome\":\"ae_grade3\",\"covariates\":$bench_cov}"
