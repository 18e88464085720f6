#!/bin/bash
# dropout.sh — the iterative standard trains (cox, glm) when a station drops
# out mid-run (TAP): `pht sim --drop-station` loses it after round N, as
# `pht run --min-stations` goes on without a station that stops answering;
# the fit restarts on the stations left and equals `pht sim` on them alone,
# and the result names the stations it covers and those that dropped out.
# Env: PHT (the pht binary), PHT_SRC (source root).
set -u
here="$PHT_SRC/tests/trains"
std="$PHT_SRC/trains/std"
data="$PHT_SRC/tests/reference/data/colon"
tmp=$(mktemp -d)
. "$(dirname "$0")/../lib.sh"
at_exit 'rm -rf "$tmp"'
ok_tail=5
sim() {  # sim OUT TRAIN PARAMS ARGS... (a, b, c are colon's stations 1-3)
  local out=$1 train=$2 params=$3
  shift 3
  local args=()
  for a in "$@"; do
    case $a in
      a|b|c) args+=(--station "$a=$data/station$(( $(printf %d "'$a") - 96 )).csv") ;;
      *) args+=("$a") ;;
    esac
  done
  "$PHT" sim "$std/$train.lua" "${args[@]}" --params "$params" --k 5 >"$out" 2>"$out.err"
}
get() { lua5.4 "$here/check.lua" get "$1" "$2"; }

# same FIT-FILE ALONE-FILE KEY: coefficients and standard errors to 1e-9, the
# test statistic TEST equal, the same iterations
same() {
  lua5.4 "$here/check.lua" same-coefs "$1" "$2" "$3" 1e-9 >"$1.cmp" 2>&1 &&
    [ "$(get "$1" "$4")" = "$(get "$2" "$4")" ] &&
    [ "$(get "$1" iterations)" = "$(get "$2" iterations)" ] ||
    { echo "$4: $(get "$1" "$4") vs $(get "$2" "$4")" >>"$1.cmp"; return 1; }
}

COX='{"time":"time","event":"status","covariates":["rx","sex","age"]}'
GLM='{"family":"binomial","outcome":"status","covariates":["rx","sex","age","obstruct","node4"]}'

# ---- cox: c lost after round 1 -------------------------------------------------
sim "$tmp/cox_ab.json" cox "$COX" a b
ok $? "cox on a and b alone runs" "$tmp/cox_ab.json.err"
sim "$tmp/cox_drop2.json" cox "$COX" a b c --drop-station c:2
ok $? "cox on a, b, c with c lost from round 2 runs to the end" "$tmp/cox_drop2.json.err"
same "$tmp/cox_drop2.json" "$tmp/cox_ab.json" coef lr_test.chisq
ok $? "it equals cox on a and b alone: coefficients to 1e-9, the LR test equal, as many iterations" \
  "$tmp/cox_drop2.json.cmp"
[ "$(get "$tmp/cox_drop2.json" loglik)" = "$(get "$tmp/cox_ab.json" loglik)" ]
ok $? "its log likelihood at beta = 0 is a's and b's, not the three stations'"
[ "$(get "$tmp/cox_drop2.json" stations.1.id),$(get "$tmp/cox_drop2.json" stations.2.id),$(get "$tmp/cox_drop2.json" stations.3)" = "a,b,nil" ]
ok $? "its stations (the ones it covers) are a and b"
[ "$(get "$tmp/cox_drop2.json" stations_dropped)" = '[{"id":"c","round":2}]' ]
ok $? "stations_dropped names c and the first round without its result" "$tmp/cox_drop2.json"
lua5.4 "$here/check.lua" has-note "$tmp/cox_drop2.json" \
  "the iteration restarted at round 3 from the fixed start; the result covers stations a, b only, not c" 2>"$tmp/e"
ok $? "a note says the iteration restarted and which stations the result covers" "$tmp/e"
grep -q 'round 3: station a: ok' "$tmp/cox_drop2.json.err" &&
  grep -q 'done after 6 rounds' "$tmp/cox_drop2.json.err"
ok $? "the restart costs rounds, not a wrong model (6 rounds instead of 4)" "$tmp/cox_drop2.json.err"
sim "$tmp/cox_abc.json" cox "$COX" a b c
[ "$(get "$tmp/cox_abc.json" stations_dropped)" = nil ]
ok $? "without a loss there is no stations_dropped" "$tmp/cox_abc.json"

# ---- cox: lost later, and two stations lost one after the other -----------------
sim "$tmp/cox_drop4.json" cox "$COX" a b c --drop-station c:4
same "$tmp/cox_drop4.json" "$tmp/cox_ab.json" coef lr_test.chisq
ok $? "c lost from round 4 (mid-iteration): equals cox on a and b alone" "$tmp/cox_drop4.json.cmp"
sim "$tmp/cox_a.json" cox "$COX" a
sim "$tmp/cox_drop24.json" cox "$COX" a b c --drop-station c:2 --drop-station b:4
same "$tmp/cox_drop24.json" "$tmp/cox_a.json" coef lr_test.chisq &&
  [ "$(get "$tmp/cox_drop24.json" stations_dropped)" = '[{"id":"c","round":2},{"id":"b","round":4}]' ]
ok $? "c lost from round 2 and b from round 4 (in the restarted iteration): equals cox on a alone, both named" \
  "$tmp/cox_drop24.json.cmp"

sim "$tmp/cox_drop23.json" cox "$COX" a b c --drop-station c:2 --drop-station b:3
same "$tmp/cox_drop23.json" "$tmp/cox_a.json" coef lr_test.chisq &&
  [ "$(get "$tmp/cox_drop23.json" stations_dropped)" = '[{"id":"c","round":2},{"id":"b","round":3}]' ]
ok $? "c lost from round 2 and b in the restart's first round: the iteration starts there on a alone, both named" \
  "$tmp/cox_drop23.json.cmp"

# ---- glm: the same rule through the shared code --------------------------------
sim "$tmp/glm_ab.json" glm "$GLM" a b
ok $? "binomial glm on a and b alone runs" "$tmp/glm_ab.json.err"
sim "$tmp/glm_drop2.json" glm "$GLM" a b c --drop-station c:2
same "$tmp/glm_drop2.json" "$tmp/glm_ab.json" estimate deviance &&
  [ "$(get "$tmp/glm_drop2.json" null_deviance)" = "$(get "$tmp/glm_ab.json" null_deviance)" ] &&
  [ "$(get "$tmp/glm_drop2.json" aic)" = "$(get "$tmp/glm_ab.json" aic)" ]
ok $? "glm with c lost from round 2 equals glm on a and b alone (estimates, deviance, null deviance, AIC)" \
  "$tmp/glm_drop2.json.cmp"
sim "$tmp/glm_drop3.json" glm "$GLM" a b c --drop-station c:3
same "$tmp/glm_drop3.json" "$tmp/glm_ab.json" estimate deviance &&
  [ "$(get "$tmp/glm_drop3.json" null_deviance)" = "$(get "$tmp/glm_ab.json" null_deviance)" ] &&
  [ "$(get "$tmp/glm_drop3.json" stations_dropped)" = '[{"id":"c","round":3}]' ] &&
  [ "$(get "$tmp/glm_drop3.json" stations.3)" = nil ]
ok $? "glm with c lost from round 3 (after the null deviance round): equals a and b alone, names c" \
  "$tmp/glm_drop3.json.cmp"

# ---- the stations' side of a restart ---------------------------------------------
sim "$tmp/it1.json" cox '{"time":"time","event":"status","covariates":["age"],"iteration":{"start":1,"stations":["a"],"dropped":[]}}' a
[ $? -ne 0 ] && grep -qF "iteration: set by the train's combine between rounds, not by the analyst" "$tmp/it1.json.err"
ok $? "an iteration record in round 1's params is refused" "$tmp/it1.json.err"
sim "$tmp/u.json" cox "$COX" a b --drop-station x:2
[ $? -eq 2 ] && grep -qF -- "--drop-station x:2: give NAME:ROUND" "$tmp/u.json.err"
ok $? "--drop-station of a station not given is a usage error" "$tmp/u.json.err"

done_testing
