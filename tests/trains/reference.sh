#!/bin/bash
# reference.sh — runs the standard trains km, cox (efron, breslow) and glm
# (binomial, poisson, gaussian) through `pht sim` on the split public
# datasets of tests/reference/data and compares every quantity with the
# pooled-R fixtures of tests/reference/expected (TAP, via compare.lua).
# Env: PHT (the pht binary), PHT_SRC (source root). The station's time
# resolution stays pht sim's default (30 days): every KM fixture's grid is
# 30 days, so the station's grid is the fixture's.
set -u
here="$PHT_SRC/tests/trains"
ref="$PHT_SRC/tests/reference"
std="$PHT_SRC/trains/std"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

sim() {  # sim TRAIN DATASET PARAMS OUT  (k = 1: no merging, exact pooled equality)
  local train=$1 ds=$2 params=$3 out=$4
  local args=()
  for csv in "$ref/data/$ds"/station*.csv; do
    local st
    st=$(basename "$csv" .csv)
    args+=(--station "$st=$csv")
  done
  "$PHT" sim "$std/$train.lua" "${args[@]}" --params "$params" --k 1 >"$out" 2>"$out.err"
}

check() {  # check KIND FIXTURE TRAIN DATASET [extra]
  local kind=$1 fixture=$ref/expected/$2.json train=$3 ds=$4 extra=${5:-}
  local out="$tmp/$2${extra:+_$extra}.json"
  local params
  params=$(lua5.4 "$here/compare.lua" params "$fixture" "$extra")
  if ! sim "$train" "$ds" "$params" "$out"; then
    n=$((n + 1)); failed=$((failed + 1))
    echo "not ok $n - $2 $extra: pht sim failed"
    sed 's/^/# /' "$out.err"
    return
  fi
  while IFS= read -r line; do
    case "$line" in
      ok*|"not ok"*)
        n=$((n + 1))
        case "$line" in "not ok"*) failed=$((failed + 1));; esac
        echo "${line/#ok/ok $n}" | sed "s/^not ok /not ok $n /" ;;
      *) echo "$line" ;;
    esac
  done < <(lua5.4 "$here/compare.lua" "$kind" "$fixture" "$out" "$extra")
}

for ds in lung veteran colon pbc; do
  check km "km_$ds" km "$ds"
  check km "km_$ds" km "$ds" group
  check cox "cox_$ds" cox "$ds" efron
  check cox "cox_$ds" cox "$ds" breslow
done
check glm glm_binomial_colon glm colon
check glm glm_poisson_colon glm colon
check glm glm_gaussian_pbc glm pbc
check glm glm_gaussian_lung glm lung
# a logistic model of one code of an outcome (event_value), a Poisson model
# of a count; terms R drops as aliased (NA: a collinear and a constant
# covariate) in cox and glm
check glm glm_binomial_event_colon glm colon
check glm glm_poisson_nodes_colon glm colon
check cox cox_aliased_colon cox colon_aliased efron
check cox cox_aliased_colon cox colon_aliased breslow
check glm glm_aliased_colon glm colon_aliased
check glm glm_gaussian_aliased_colon glm colon_aliased

echo "1..$n"
[ "$failed" -eq 0 ]
