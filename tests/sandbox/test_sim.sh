#!/usr/bin/env bash
# test_sim.sh — pht sim over two generated CSV datasets against an independent awk computation.
set -u
pht=${PHT:?PHT must name the pht executable}
src=${PHT_SRC:?}
tmp=$(mktemp -d)
. "$(dirname "$0")/../lib.sh"
at_exit 'rm -rf "$tmp"'

RANDOM=4242
dict='{"dataset":"reg","columns":[{"name":"id","type":"integer"},{"name":"age","type":"number","unit":"years"},{"name":"sex","type":"category","levels":["F","M"]}]}'
for s in a b; do
  rows=$((40 + RANDOM % 40))
  { echo "id,age,sex"
    for i in $(seq 1 "$rows"); do
      if [ $((RANDOM % 10)) = 0 ]; then age=NA; else age="$((20 + RANDOM % 70)).$((RANDOM % 10))"; fi
      if [ $((RANDOM % 2)) = 0 ]; then sex=F; else sex=M; fi
      echo "$i,$age,$sex"
    done; } > "$tmp/$s.csv"
  echo "$dict" > "$tmp/$s.dict.json"
done
# The pooled truth, from the CSV text alone.
read -r en emean evar < <(awk -F, 'FNR > 1 && $2 != "NA" { n++; s += $2; ss += $2 * $2 }
  END { printf "%d %.15g %.15g\n", n, s / n, (ss - s * s / n) / (n - 1) }' "$tmp/a.csv" "$tmp/b.csv")

"$pht" sim "$src/tests/sandbox/sim/mean_rounds.lua" --station "a=$tmp/a.csv" \
  --station "b=$tmp/b.csv" --params '{"column":"age"}' --seed 7 >"$tmp/out" 2>"$tmp/err"
ok $? "pht sim runs the two-round train"
ok "$([ "$(wc -l < "$tmp/out")" = 1 ] && echo 0 || echo 1)" "stdout holds exactly one line (the result)"
ok "$(grep -q '"n":'"$en"',' "$tmp/out" && grep -q '"n_round1":'"$en"',' "$tmp/out" && echo 0 || echo 1)" \
  "pooled count $en in both rounds"
ok "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
m, v = float(sys.argv[2]), float(sys.argv[3])
ok = abs(r["mean"] - m) <= 1e-9 * abs(m) and abs(r["var"] - v) <= 1e-9 * abs(v)
ok = ok and r["stations"] == 2 and r["first"] == "a"
sys.exit(0 if ok else 1)' "$tmp/out" "$emean" "$evar"; echo $?)" "pooled mean $emean and variance $evar match awk"
ok "$(grep -c "^pht sim: round [12]: \(station [ab]\|combine\): ok" "$tmp/err" | grep -qx 6 && echo 0 || echo 1)" \
  "stderr reports each station and combine in both rounds"
ok "$(grep -q 'done after 2 rounds' "$tmp/err" && echo 0 || echo 1)" "stderr says done after 2 rounds"

# The same result run twice (same seed): reproducible.
"$pht" sim "$src/tests/sandbox/sim/mean_rounds.lua" --station "a=$tmp/a.csv" \
  --station "b=$tmp/b.csv" --params '{"column":"age"}' --seed 7 >"$tmp/out2" 2>/dev/null
ok "$(cmp -s "$tmp/out" "$tmp/out2" && echo 0 || echo 1)" "a second run gives the same bytes"

# k larger than a station's dataset: the station declines before the run, as a
# station does, and the run names it with its reason.
"$pht" sim "$src/tests/sandbox/sim/mean_rounds.lua" --station "a=$tmp/a.csv" \
  --params '{"column":"age"}' --k 1000 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok "$([ $rc = 1 ] && [ ! -s "$tmp/out" ] && grep -q 'round 1: station a: rejected: refused: too few rows' "$tmp/err" && echo 0 || echo 1)" \
  "--k 1000 refuses the small dataset (exit 1, nothing on stdout)"

# Limits from the command line reach the sandbox.
"$pht" sim "$src/tests/sandbox/trains/loop_plain.lua" --station "a=$tmp/a.csv" \
  --instruction-limit 100000 >"$tmp/out" 2>"$tmp/err"
ok "$([ $? = 1 ] && grep -q 'instruction budget of 100000 exceeded' "$tmp/err" && echo 0 || echo 1)" \
  "--instruction-limit is enforced"
"$pht" sim "$src/tests/sandbox/trains/mem_rep.lua" --station "a=$tmp/a.csv" \
  --memory-limit 8 >"$tmp/out" 2>"$tmp/err"
ok "$([ $? = 1 ] && grep -q 'memory cap of 8388608 bytes exceeded' "$tmp/err" && echo 0 || echo 1)" \
  "--memory-limit is enforced"
"$pht" sim "$src/tests/sandbox/trains/slow_find.lua" --station "a=$tmp/a.csv" \
  --time-limit 1 >"$tmp/out" 2>"$tmp/err"
ok "$([ $? = 1 ] && grep -q 'wall-clock limit of 1 s exceeded' "$tmp/err" && echo 0 || echo 1)" \
  "--time-limit is enforced"

# A train that never finishes runs out of rounds.
cat > "$tmp/forever.lua" <<'LUA'
return { name = "forever", version = "1",
  station = function(data) return {n = data:nrows()} end,
  combine = function(results, params, round) return {done = false, params = {r = round}} end }
LUA
"$pht" sim "$tmp/forever.lua" --station "a=$tmp/a.csv" --max-rounds 3 >"$tmp/out" 2>"$tmp/err"
ok "$([ $? = 1 ] && grep -q 'did not finish within 3 rounds' "$tmp/err" && echo 0 || echo 1)" \
  "--max-rounds caps the rounds"

# Row access: off by default (values() is an error), on only with --row-access.
cat > "$tmp/rows.lua" <<'LUA'
return { name = "rows", version = "1",
  station = function(data) return {n = #data:column("id"):values()} end,
  combine = function(results) return {done = true, result = results[1].n} end }
LUA
"$pht" sim "$tmp/rows.lua" --station "a=$tmp/a.csv" >"$tmp/out" 2>"$tmp/err"
ok "$([ $? = 1 ] && [ ! -s "$tmp/out" ] && grep -q 'col:values() is not available: no row-level value reaches a train' "$tmp/err" && echo 0 || echo 1)" \
  "without --row-access values() fails the run"
"$pht" sim "$tmp/rows.lua" --station "a=$tmp/a.csv" --row-access >"$tmp/out" 2>"$tmp/err"
ok "$([ $? = 0 ] && [ "$(cat "$tmp/out")" = "$(($(wc -l < "$tmp/a.csv") - 1))" ] && echo 0 || echo 1)" \
  "--row-access lets values() hand over every row"

# Bad usage and bad input exit 2 with a clear message.
"$pht" sim "$tmp/forever.lua" >/dev/null 2>"$tmp/err"
ok "$([ $? = 2 ] && grep -q 'at least one --station' "$tmp/err" && echo 0 || echo 1)" "no station: usage error"
"$pht" sim "$tmp/forever.lua" --station "a=$tmp/a.txt" >/dev/null 2>"$tmp/err"
ok "$([ $? = 2 ] && grep -q 'give NAME=PATH.csv' "$tmp/err" && echo 0 || echo 1)" "station path must end in .csv"
"$pht" sim "$tmp/forever.lua" --station "a=$tmp/a.csv" --station "a=$tmp/b.csv" >/dev/null 2>"$tmp/err"
ok "$([ $? = 2 ] && grep -q 'station a named twice' "$tmp/err" && echo 0 || echo 1)" "duplicate station names refused"
"$pht" sim "$tmp/forever.lua" --station "a=$tmp/a.csv" --params '[1]' >/dev/null 2>"$tmp/err"
ok "$([ $? = 2 ] && grep -q 'not a JSON object' "$tmp/err" && echo 0 || echo 1)" "--params must be an object"
"$pht" sim "$tmp/forever.lua" --station "a=$tmp/a.csv" --k 0 >/dev/null 2>"$tmp/err"
ok "$([ $? = 2 ] && grep -q -- '--k 0' "$tmp/err" && echo 0 || echo 1)" "--k 0 refused"
"$pht" sim "$tmp/forever.lua" --station "a=$tmp/missing.csv" >/dev/null 2>"$tmp/err"
ok "$([ $? = 2 ] && grep -q 'station a' "$tmp/err" && echo 0 || echo 1)" "a missing dataset names the station"
# The station's resolution policy reaches the train: --time-resolution, --km-min-cell, --grid.
cat > "$tmp/res.lua" <<'LUA'
return { name = "res", version = "1",
  station = function(data)
    return { days = data:time_resolution(), edges = data:snap("age", { 21, 47 }),
      digits = data:snap("id", { 1234, 5678 }) }
  end,
  combine = function(r) return { done = true, result = r[1] } end }
LUA
"$pht" sim "$tmp/res.lua" --station "a=$tmp/a.csv" --time-resolution 7 --grid age=10 \
  --grid-digits 3 --km-min-cell 12 >"$tmp/out" 2>"$tmp/err"
ok "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
r.pop("participation", None)
sys.exit(0 if r == {"days": 7, "edges": [20, 50], "digits": [1230, 5680]} else 1)' "$tmp/out"; echo $?)" \
  "--time-resolution 7, --grid age=10, --grid-digits 3 reach the train"
"$pht" sim "$tmp/res.lua" --station "a=$tmp/a.csv" >"$tmp/out" 2>"$tmp/err"
ok "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
r.pop("participation", None)
sys.exit(0 if r == {"days": 30, "edges": [21, 47], "digits": [1200, 5700]} else 1)' "$tmp/out"; echo $?)" \
  "defaults: 30 days, edges to 2 significant digits"
for bad in "--time-resolution 0" "--time-resolution x" "--grid age" "--grid age=-1" "--grid =5" \
    "--grid-digits 7" "--km-min-cell 0"; do
  # shellcheck disable=SC2086
  "$pht" sim "$tmp/res.lua" --station "a=$tmp/a.csv" $bad >/dev/null 2>"$tmp/err"
  ok "$([ $? = 2 ] && grep -q -- "${bad%% *}" "$tmp/err" && echo 0 || echo 1)" "$bad refused"
done
"$pht" sim --help >"$tmp/out"
ok "$([ $? = 0 ] && grep -q -- '--instruction-limit' "$tmp/out" && echo 0 || echo 1)" "--help documents the options"

done_testing
