#!/usr/bin/env bash
# fedmodels.sh — benchmark 5 through the federation: trains/std/cox.lua and
# glm.lua dispatched by `pht run` through a node and one station daemon per
# CSV on 127.0.0.1.
# Usage: bench/fedmodels.sh PHT PHT_BENCH_LOAD OUTDIR REPS DATADIR [SIM_COX.json SIM_GLM.json]
# DATADIR holds hospital_01.csv ... (with their .dict.json; bench/run's
# bench/out/fed, 10 × 100k rows); each becomes station s01, s02, ... with
# the same params as bench/run's `pht sim` part (fedlib.sh). REPS times each
# model: `pht run` start to printed result (metrics fed.cox.* and
# fed.glm.*: seconds and cpu_seconds of `pht run`, fed_cpu_seconds the CPU
# the node and the daemons spent meanwhile, sandboxes included). Every
# result's coefficients must equal those of `pht sim` on the same CSVs
# (SIM_COX.json / SIM_GLM.json; without them `pht sim` is run once here,
# untimed): the largest relative difference is printed as
# fed.MODEL.coef_max_rel_diff, and the script fails when it is above 1e-12.
# Stops everything it started on exit.
set -euo pipefail
PHT=$1; LOADB=$2; dir=$3; reps=$4; data=$(cd "$5" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/fedlib.sh"

csvs=("$data"/hospital_[0-9][0-9].csv)
nst=${#csvs[@]}
[ -f "${csvs[0]}" ] || { echo "fedmodels.sh: no hospital_NN.csv in $data" >&2; exit 2; }
rm -rf "$dir"; mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

sim_cox=${6:-}; sim_glm=${7:-}
if [ -z "$sim_cox" ] || [ -z "$sim_glm" ]; then
  simst=()
  for f in "${csvs[@]}"; do n=$(basename "$f" .csv); simst+=(--station "${n#hospital_}=$f"); done
  sim_cox="$dir/sim-cox.json"; sim_glm="$dir/sim-glm.json"
  "$PHT" sim "$root/trains/std/cox.lua" "${simst[@]}" --params "$bench_cox_params" \
    --seed 1 --time-limit 600 >"$sim_cox" 2>"$dir/sim-cox.log"
  "$PHT" sim "$root/trains/std/glm.lua" "${simst[@]}" --params "$bench_glm_params" \
    --seed 1 --time-limit 600 >"$sim_glm" 2>"$dir/sim-glm.log"
fi

# the station limits for 100k rows: the run's wall clock as pht sim's --time-limit;
# memory and instructions at their defaults (512 MiB, 2e9 units = 20 s CPU)
fed_start "$PHT" "$dir" "$nst" "$data" '{"k": 5, "limits": {"time_seconds": 600}}'

for r in $(seq 1 "$reps"); do
  for m in cox glm; do
    case $m in cox) params=$bench_cox_params key=coef sim=$sim_cox ;;
               glm) params=$bench_glm_params key=estimate sim=$sim_glm ;; esac
    t0=$(fed_ticks)
    "$LOADB" exec fed.$m -o "$dir/run-$m.json" -e "$dir/run-$m.log" \
      "$PHT" run "$root/trains/std/$m.lua" --config "$dir/analyst.json" \
      --stations "$fed_stations" --params "$params" ||
      { echo "fedmodels.sh: pht run $m.lua failed: $(tail -n 5 "$dir/run-$m.log")" >&2; exit 1; }
    t1=$(fed_ticks)
    awk -v m="fed.$m.fed_cpu_seconds" -v t=$((t1 - t0)) -v hz="$fed_hz" \
      'BEGIN { printf "%s\t%.9g\n", m, t / hz }'
    d=$(lua5.4 "$here/samecoef.lua" "$dir/run-$m.json" "$sim" $key 1e-12) ||
      { echo "fedmodels.sh: pht run $m.lua and pht sim differ" >&2; exit 1; }
    printf 'fed.%s.coef_max_rel_diff\t%s\n' $m "$d"
  done
done
