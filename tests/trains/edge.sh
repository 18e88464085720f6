#!/bin/bash
# edge.sh — the standard trains' edge cases and guards through `pht sim`
# (TAP): a station without events, a category level absent at one station,
# missing values, separation, collinearity, and every refusal message.
# Env: PHT (the pht binary), PHT_SRC (source root).
set -u
here="$PHT_SRC/tests/trains"
std="$PHT_SRC/trains/std"
tmp=$(mktemp -d)
. "$(dirname "$0")/../lib.sh"
at_exit 'rm -rf "$tmp"'
ok_tail=5
d="$tmp/data"
mkdir "$d"
lua5.4 "$here/gen_edge.lua" "$d" || { echo "Bail out! cannot generate the edge datasets"; exit 1; }
sim() {  # sim OUT TRAIN PARAMS STATION... (stations are dataset names)
  local out=$1 train=$2 params=$3
  shift 3
  local args=()
  for s in "$@"; do args+=(--station "$s=$d/$s.csv"); done
  "$PHT" sim "$std/$train.lua" "${args[@]}" --params "$params" --k 5 >"$out" 2>"$out.err"
}

# expect_error NAME TRAIN PARAMS MESSAGE STATION...: the run fails, and
# stderr holds MESSAGE exactly
expect_error() {
  local name=$1 train=$2 params=$3 msg=$4
  shift 4
  local out="$tmp/$name.json"
  sim "$out" "$train" "$params" "$@"
  local rc=$?
  [ $rc -ne 0 ]
  ok $? "$name: the run fails" "$out.err"
  grep -qF -- "$msg" "$out.err"
  ok $? "$name: says \"$msg\"" "$out.err"
}

get() { lua5.4 "$here/check.lua" get "$1" "$2"; }

COX='{"time":"time","event":"status","covariates":["x1","grp"]}'

# ---- a station without events: its stratum adds nothing ----------------------
sim "$tmp/cox_abc.json" cox "$COX" st_a st_b st_c
ok $? "cox on three stations, one without events, runs" "$tmp/cox_abc.json.err"
sim "$tmp/cox_ab.json" cox "$COX" st_a st_b
ok $? "cox on the two stations with events runs" "$tmp/cox_ab.json.err"
lua5.4 "$here/check.lua" has-note "$tmp/cox_abc.json" "station st_c has no events" 2>"$tmp/e1"
ok $? "cox says that station st_c has no events" "$tmp/e1"
lua5.4 "$here/check.lua" same-coefs "$tmp/cox_abc.json" "$tmp/cox_ab.json" coef 1e-12 2>"$tmp/e2"
ok $? "cox: the eventless station changes no coefficient or SE" "$tmp/e2"
[ "$(get "$tmp/cox_abc.json" stations.3.events)" = 0 ]
ok $? "cox reports 0 events for st_c"
for ties in efron breslow; do
  sim "$tmp/cox_$ties.json" cox "{\"time\":\"time\",\"event\":\"status\",\"covariates\":[\"x1\",\"grp\"],\"ties\":\"$ties\"}" st_a st_b st_c
  [ "$(get "$tmp/cox_$ties.json" ties)" = "$ties" ]
  ok $? "cox ties=$ties runs and says so" "$tmp/cox_$ties.json.err"
done

# ---- missing values: complete cases, stated -----------------------------------
[ "$(get "$tmp/cox_abc.json" stations.1.dropped)" = 6 ]
ok $? "cox states the 6 rows of st_a dropped for a missing x1"
[ "$(get "$tmp/cox_abc.json" stations.1.n)" = 54 ] && [ "$(get "$tmp/cox_abc.json" n)" = 144 ]
ok $? "cox uses 54 complete rows at st_a, 144 in all"

# ---- a category level absent at one station ----------------------------------
GLM='{"family":"gaussian","outcome":"y","covariates":["x1","grp"]}'
sim "$tmp/glm_split.json" glm "$GLM" st_a st_b
ok $? "glm with level c absent at st_b runs" "$tmp/glm_split.json.err"
sim "$tmp/glm_one.json" glm "$GLM" st_ab
ok $? "glm on the same rows as one station runs" "$tmp/glm_one.json.err"
lua5.4 "$here/check.lua" same-coefs "$tmp/glm_split.json" "$tmp/glm_one.json" estimate 1e-9 2>"$tmp/e3"
ok $? "glm: the split fit equals the single-station fit (grpc estimated from st_a alone)" "$tmp/e3"
[ "$(get "$tmp/glm_split.json" coefficients.4.name)" = grpc ]
ok $? "glm names the absent level's term grpc"
[ "$(get "$tmp/glm_split.json" stations.1.dropped)" = 6 ] && [ "$(get "$tmp/glm_split.json" n)" = 104 ]
ok $? "glm states the dropped rows and uses 104"
for fam in binomial poisson; do
  out="$tmp/glm_$fam.json"
  if [ $fam = binomial ]; then p='{"family":"binomial","outcome":"status","covariates":["x1","grp"]}'
  else p='{"family":"poisson","outcome":"code","covariates":["x1"]}'; fi
  sim "$out" glm "$p" st_a st_b
  [ "$(get "$out" family)" = $fam ] && [ "$(get "$out" converged)" = true ]
  ok $? "glm family=$fam converges" "$out.err"
done

# ---- separation, collinearity -------------------------------------------------
# (the station's glm_step refuses the run once a fitted probability reaches the clamp)
expect_error separation glm '{"family":"binomial","outcome":"flag","covariates":["x1"]}' \
  "glm_step: refused: a fitted value at the given beta would be clamped" separated
# (a collinear covariate is aliased, as R's glm and coxph: NA, the rest fitted)
for t in glm cox; do
  if [ $t = glm ]; then p='{"family":"gaussian","outcome":"y","covariates":["x1","x2"]}'
  else p='{"time":"time","event":"status","covariates":["x1","x2"]}'; fi
  sim "$tmp/collinear_$t.json" $t "$p" collinear
  ok $? "collinear_$t: the run completes" "$tmp/collinear_$t.json.err"
  [ "$(get "$tmp/collinear_$t.json" aliased)" = '["x2"]' ] &&
    lua5.4 "$here/check.lua" has-note "$tmp/collinear_$t.json" \
      "1 coefficient not defined because of singularities" 2>"$tmp/e" &&
    [ "$(get "$tmp/collinear_$t.json" coefficients.$([ $t = glm ] && echo 3 || echo 2).se)" = null ]
  ok $? "collinear_$t: x2 is aliased (null, named in aliased and a note), x1 is fitted" "$tmp/collinear_$t.json"
done

# ---- guards -----------------------------------------------------------------------
expect_error n_per_param glm '{"family":"gaussian","outcome":"y","covariates":["x1"]}' \
  "refused: 5 complete rows for 2 parameters; a model needs n >= 3 x parameters at each station" five_rows st_b
# (a 0/1 column's two values are cells the kernels guard themselves, before the
# train's own check of a binary term: docs/security.md, Disclosure, limit (g))
expect_error rare_binary_covariate cox '{"time":"time","event":"status","covariates":["x1","flag"]}' \
  "subset smaller than k (2 rows with one value of the 0/1 column flag, k = 5)" rare_flag st_b
expect_error rare_binary_covariate_glm glm '{"family":"gaussian","outcome":"y","covariates":["flag"]}' \
  "subset smaller than k (2 rows with one value of the 0/1 column flag, k = 5)" rare_flag
expect_error rare_outcome glm '{"family":"binomial","outcome":"flag","covariates":["x1"]}' \
  "subset smaller than k (3 rows with one value of the 0/1 column flag, k = 5)" rare_outcome st_b
expect_error few_dropped_cox cox '{"time":"time","event":"status","covariates":["x1"]}' \
  "refused: 2 rows at this station miss a value the model uses, fewer than k = 5" few_missing
expect_error few_dropped_glm glm '{"family":"gaussian","outcome":"y","covariates":["x1"]}' \
  "refused: 2 rows at this station miss a value the model uses, fewer than k = 5" few_missing
expect_error few_events cox '{"time":"time","event":"status","covariates":["x1"]}' \
  "subset smaller than k (2 rows with one value of the 0/1 column status, k = 5)" few_events st_b
# (a dataset of fewer than k rows declines before the train runs, as at a
# station: pht_train_check_rows; without --min-stations the run fails)
expect_error dataset_under_k count '{}' \
  "three_rows (rejected: refused: too few rows: dataset three_rows holds fewer rows than the station's k = 5" three_rows st_b

# ---- parameters -----------------------------------------------------------------
expect_error bad_ties cox '{"time":"time","event":"status","covariates":["x1"],"ties":"exact"}' \
  'ties: "exact" is not one of "efron", "breslow"' st_a
expect_error bad_family glm '{"family":"gamma","outcome":"y","covariates":["x1"]}' \
  'family: "gamma" is not one of "binomial", "poisson", "gaussian"' st_a
expect_error no_covariates cox '{"time":"time","event":"status","covariates":[]}' \
  "covariates: a non-empty list of column names is required" st_a
expect_error unknown_column cox '{"time":"time","event":"status","covariates":["nosuch"]}' \
  'covariates: column "nosuch" is not in dataset st_a at st_a' st_a
expect_error km_interval km '{"time":"time","event":"status","interval":-1}' \
  "interval: a positive grid width in the time unit" st_a
sim "$tmp/km_grid.json" km '{"time":"time","event":"status","interval":1,"k":1}' st_a
[ "$(get "$tmp/km_grid.json" interval)" = 30 ]
ok $? "km asked for a 1-day grid releases on the station's 30-day resolution" "$tmp/km_grid.json.err"
sim "$tmp/km_grid45.json" km '{"time":"time","event":"status","interval":45,"k":1}' st_a
[ "$(get "$tmp/km_grid45.json" interval)" = 60 ]
ok $? "km asked for 45 days releases on 60, the next multiple of the resolution" "$tmp/km_grid45.json.err"
sim "$tmp/km_default.json" km '{"time":"time","event":"status","k":1}' st_a
[ "$(get "$tmp/km_default.json" interval)" = 30 ]
ok $? "km without interval releases on the station's resolution" "$tmp/km_default.json.err"
expect_error event_code km '{"time":"time","event":"code","interval":30}' \
  "event: column 'code' has values other than 0/1 at this station; give event_value" st_a
sim "$tmp/km_code.json" km '{"time":"time","event":"code","event_value":2,"interval":30,"k":1}' st_a
[ "$(get "$tmp/km_code.json" events)" = "$(awk -F, 'NR > 1 && $8 == 2' "$d/st_a.csv" | wc -l)" ]
ok $? "km with event_value 2 counts the rows coded 2 as events" "$tmp/km_code.json.err"
expect_error glm_category_outcome glm '{"family":"poisson","outcome":"grp","covariates":["x1"]}' \
  "outcome: column 'grp' must be numeric for family poisson" st_a

# ---- chosen parameters cannot aim a release at a row ---------------------------
# pht sim refuses a param the train's combine sets before anything runs (the
# train's declaration); a station refuses it in the train itself, round 1
# starting from the values the train fixes (tests/integration/checks.sh)
expect_error cox_beta_round1 cox '{"time":"time","event":"status","covariates":["x1"],"beta":[40]}' \
  "beta: set by the train's combine between rounds, not by the analyst" st_a
expect_error glm_beta_round1 glm '{"family":"binomial","outcome":"status","covariates":["x1"],"beta":[0,50]}' \
  "beta: set by the train's combine between rounds, not by the analyst" st_a
expect_error glm_nullmu_round1 glm '{"family":"gaussian","outcome":"y","covariates":["x1"],"nullmu":3}' \
  "nullmu: set by the train's combine between rounds, not by the analyst" st_a
sim "$tmp/km_mincell.json" km '{"time":"time","event":"status","min_cell":1,"k":1}' st_a
[ "$(get "$tmp/km_mincell.json" stations.1.min_cell)" = 5 ]
ok $? "km: min_cell 1 and params.k 1 do not lower the station's k = 5" "$tmp/km_mincell.json.err"
"$PHT" sim "$std/km.lua" --station "st_a=$d/st_a.csv" --params '{"time":"time","event":"status","min_cell":1}' \
  --k 5 --km-min-cell 9 >"$tmp/km_policy.json" 2>"$tmp/km_policy.json.err"
[ "$(get "$tmp/km_policy.json" stations.1.min_cell)" = 9 ]
ok $? "km: the station policy's km_min_cell 9 is the floor of every step" "$tmp/km_policy.json.err"

# ---- disclosure in tables: the runtime's suppression, summed honestly ----------
sim "$tmp/xt.json" crosstab '{"rows":"grp","cols":"flag"}' rare_flag st_b
ok $? "crosstab runs" "$tmp/xt.json.err"
[ "$(get "$tmp/xt.json" stations.1.cells.2.suppressed)" = true ]
ok $? "crosstab suppresses the cell (a, flag) of 1 row at rare_flag"
lua5.4 "$here/check.lua" has-note "$tmp/xt.json" "pooled cells sum released counts only" 2>"$tmp/e4"
ok $? "crosstab says the pooled table sums released cells only" "$tmp/e4"
sim "$tmp/km_merged.json" km '{"time":"time","event":"status","interval":1}' st_a st_b
lua5.4 "$here/check.lua" km-complete "$tmp/km_merged.json" 2>"$tmp/e6"
ok $? "km with merged steps keeps every patient and event" "$tmp/e6"
lua5.4 "$here/check.lua" has-note "$tmp/km_merged.json" "steps merged to cover at least 5 patients each" 2>"$tmp/e5"
ok $? "km says its steps were merged" "$tmp/e5"

done_testing
