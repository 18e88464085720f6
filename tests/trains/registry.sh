#!/bin/bash
# registry.sh — count, crosstab, summary, km and outcomes through `pht sim`
# on the example registry (tools/registry), checked by registry_check.lua
# against figures computed directly from the pooled CSV files (TAP).
# Usage: registry.sh PHT-REGISTRY-GEN. Env: PHT, PHT_SRC.
set -u
gen=$1
here="$PHT_SRC/tests/trains"
std="$PHT_SRC/trains/std"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" --out "$tmp/reg" --hospitals 3 --patients 1500 --seed 5 >/dev/null ||
  { echo "Bail out! pht-registry-gen failed"; exit 1; }
st=()
for csv in "$tmp/reg"/hospital_*.csv; do st+=(--station "$(basename "$csv" .csv)=$csv"); done
n=0
failed=0
run() {  # run NAME TRAIN PARAMS
  n=$((n + 1))
  if "$PHT" sim "$std/$2.lua" "${st[@]}" --params "$3" --k 5 >"$tmp/$1.json" 2>"$tmp/$1.err"; then
    echo "ok $n - $2 runs ($1)"
  else
    failed=$((failed + 1))
    echo "not ok $n - $2 runs ($1)"
    sed 's/^/# /' "$tmp/$1.err" | tail -3
  fi
}
run count count '{}'
run count_by_treatment count '{"by":"treatment"}'
run crosstab crosstab '{"rows":"treatment","cols":"best_response"}'
run summary summary '{"columns":["age","cost_eur","sex"],"histograms":{"age":{"from":20,"to":100,"width":10}},"quantiles":[0.1,0.5,0.9]}'
run km_by_treatment km '{"time":"os_days","event":"os_event","group":"treatment"}'
run outcomes outcomes '{}'
# complementary suppression: with k = 8, hospital_03's 7 encorafenib+binimetinib
# patients are suppressed, and so (alone, it would be the total minus the
# others) the smallest other arm, its 8 vemurafenib+cobimetinib patients
get() { lua5.4 "$here/check.lua" get "$1" "$2" 2>/dev/null; }
for t in outcomes count; do
  n=$((n + 1))
  if [ $t = outcomes ]; then p='{}'; cells=stations.3.arms; else p='{"by":"treatment"}'; cells=stations.3.cells; fi
  "$PHT" sim "$std/$t.lua" "${st[@]}" --params "$p" --k 8 >"$tmp/${t}_k8.json" 2>"$tmp/${t}_k8.err"
  if [ "$(get "$tmp/${t}_k8.json" $cells.7.suppressed)" = true ] &&
      [ "$(get "$tmp/${t}_k8.json" $cells.8.suppressed)" = true ] &&
      [ "$(get "$tmp/${t}_k8.json" $cells.1.suppressed)" != true ]; then
    echo "ok $n - $t: a lone suppressed arm (7 < k = 8) takes the smallest other (8) with it"
  else
    failed=$((failed + 1))
    echo "not ok $n - $t: a lone suppressed arm (7 < k = 8) takes the smallest other (8) with it"
    tail -3 "$tmp/${t}_k8.err" | sed 's/^/# /'
  fi
done
# the station's grid is the floor of histogram edges: 1-year bins asked,
# the policy's 10-year grid for age released
n=$((n + 1))
"$PHT" sim "$std/summary.lua" "${st[@]}" --k 5 --grid age=10 \
  --params '{"columns":["age"],"histograms":{"age":{"from":20,"to":90,"width":1}}}' \
  >"$tmp/grid.json" 2>"$tmp/grid.err"
if python3 - "$tmp/grid.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["histograms"][0]
edges = [(b["from"], b["to"]) for b in h["bins"]]
sys.exit(0 if len(edges) == 7 and all(a % 10 == 0 and b - a == 10 for a, b in edges) else 1)
PY
then echo "ok $n - summary: 1-year bins asked, the station's 10-year grid for age released"
else
  failed=$((failed + 1))
  echo "not ok $n - summary: 1-year bins asked, the station's 10-year grid for age released"
  tail -3 "$tmp/grid.err" | sed 's/^/# /'
fi
while IFS= read -r line; do
  case "$line" in
    ok*) n=$((n + 1)); echo "ok $n${line#ok}" ;;
    "not ok"*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n${line#not ok}" ;;
    *) echo "$line" ;;
  esac
done < <(lua5.4 "$here/registry_check.lua" "$tmp/reg" "$tmp")
echo "1..$n"
[ "$failed" -eq 0 ]
