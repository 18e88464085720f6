#!/bin/bash
# format.sh — pht sim --format table|csv against the JSON of the same run
# (TAP): every CSV number equals the JSON's exactly, every table number
# equals it to the digits printed, aliased terms are NA in both, a KM
# curve's points are its CSV rows; group keys are typed (an integer
# column's are numbers, a boolean's booleans).
# Env: PHT (the pht binary), PHT_SRC (source root).
set -u
. "$(dirname "$0")/../lib.sh"
need python3
std="$PHT_SRC/trains/std"
ref="$PHT_SRC/tests/reference/data"
tmp=$(mktemp -d)
keep_on_failure "$tmp"

sim() {  # sim OUT TRAIN DATASET PARAMS [ARGS...]: stations 1-3 of DATASET
  local out=$1 train=$2 ds=$3 params=$4
  shift 4
  "$PHT" sim "$std/$train.lua" --station s1="$ref/$ds/station1.csv" \
    --station s2="$ref/$ds/station2.csv" --station s3="$ref/$ds/station3.csv" \
    --params "$params" --seed 7 "$@" >"$out" 2>"$out.err"
}
# agree KIND JSON TABLE CSV: the table's and the CSV's numbers against the JSON
agree() {
  python3 - "$@" <<'PY'
import csv, json, math, sys
kind, jpath, tpath, cpath = sys.argv[1:5]
res = json.load(open(jpath))
rows = list(csv.DictReader(open(cpath)))
table = open(tpath).read().split("\n")

def same(got, want, rel):  # got: text; want: JSON value (None = NA)
    if want is None:
        return got == "NA"
    if got == "NA":
        return False
    g = float(got)
    return g == want or abs(g - want) <= rel * max(abs(want), 1e-300)

def fail(msg):
    print(msg)
    sys.exit(1)

if kind in ("cox", "glm"):
    keys = ["coef", "exp_coef", "se", "z", "p", "lower95", "upper95"] if kind == "cox" else \
        ["estimate", "se", "t" if res["family"] == "gaussian" else "z", "p"]
    if [r["term"] for r in rows] != [c["name"] for c in res["coefficients"]]:
        fail("csv terms differ")
    for r, c in zip(rows, res["coefficients"]):
        for k in keys:
            if not same(r[k], c.get(k), 0):
                fail("csv %s %s: %s vs %r" % (c["name"], k, r[k], c.get(k)))
    # the table: a line per term, the name then the printed numbers
    tkeys = keys[:5] if kind == "cox" else keys
    tkeys = [k for k in tkeys if k not in ("lower95",)]
    if kind == "cox":
        tkeys = ["coef", "exp_coef", "se", "z", "p"]
    for c in res["coefficients"]:
        line = [l for l in table if l.split(" ")[0] == c["name"]]
        if len(line) != 1:
            fail("table: no single line for " + c["name"])
        cells = line[0].split()[1:]
        for k, got in zip(tkeys, cells):
            if not same(got, c.get(k), 5e-3 if k == "p" else 1e-3 if k in ("z", "t") else 1e-4):
                fail("table %s %s: %s vs %r" % (c["name"], k, got, c.get(k)))
elif kind == "km":
    pts = [(c.get("group"), p) for c in res["curves"] for p in c["table"]]
    if len(rows) != len(pts):
        fail("csv: %d rows for %d curve points" % (len(rows), len(pts)))
    for r, (g, p) in zip(rows, pts):
        if r["group"] != ("TRUE" if g is True else "FALSE" if g is False else str(g)):
            fail("csv group %s vs %r" % (r["group"], g))
        for k in ["time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"]:
            if not same(r[k], p.get(k), 0):
                fail("csv %s at %s: %s vs %r" % (k, p["time"], r[k], p.get(k)))
    # the table: per curve its header and one line per point
    steps = [l for l in table if len(l.split()) == 7 and l.split()[0].replace(".", "").isdigit()]
    if len(steps) != len(pts):
        fail("table: %d step lines for %d curve points" % (len(steps), len(pts)))
    for line, (g, p) in zip(steps, pts):
        for k, got in zip(["time", "n_risk", "n_event", "surv", "std_err", "lower", "upper"], line.split()):
            if not same(got, p.get(k), 1e-3):
                fail("table %s at %s: %s vs %r" % (k, p["time"], got, p.get(k)))
PY
}

COX='{"time":"time","event":"status","covariates":["rx","sex","age"]}'
for f in json table csv; do sim "$tmp/cox.$f" cox colon "$COX" --format $f || break; done
ok $? "cox through pht sim in json, table and csv" "$tmp/cox.csv.err"
agree cox "$tmp/cox.json" "$tmp/cox.table" "$tmp/cox.csv" >"$tmp/e" 2>&1
ok $? "cox: the CSV's numbers are the JSON's exactly, the table's to the digits printed" "$tmp/e"
grep -q '^ *coef *exp(coef) *se(coef) *z *p$' "$tmp/cox.table" &&
  grep -q '^Likelihood ratio test=.* on 4 df, p=' "$tmp/cox.table" &&
  grep -q '^n= [0-9]*, number of events= [0-9]*$' "$tmp/cox.table" &&
  grep -q '^Stations included: s1, s2, s3$' "$tmp/cox.table"
ok $? "cox table: R's header, the LR test, n and events, the stations" "$tmp/cox.table"

AL='{"family":"binomial","outcome":"status","covariates":["rx","sex","age","age_months","one"]}'
for f in json table csv; do sim "$tmp/glm.$f" glm colon_aliased "$AL" --format $f || break; done
ok $? "glm with aliased terms in json, table and csv" "$tmp/glm.csv.err"
agree glm "$tmp/glm.json" "$tmp/glm.table" "$tmp/glm.csv" >"$tmp/e" 2>&1
ok $? "glm: CSV and table agree with the JSON; aliased terms are NA in both" "$tmp/e"
grep -q '^Coefficients: (2 not defined because of singularities)$' "$tmp/glm.table" &&
  grep -q '^age_months *NA *NA *NA *NA$' "$tmp/glm.table" &&
  grep -q '^age_months,NA,NA,NA,NA$' "$tmp/glm.csv" &&
  grep -q '^Residual deviance: .* on [0-9]*  degrees of freedom$' "$tmp/glm.table"
ok $? "glm table: as R's summary.glm (singularities, NA rows, deviances); csv NA" "$tmp/glm.table"

KM='{"time":"time","event":"status","group":"node4"}'
for f in json table csv; do sim "$tmp/km.$f" km colon "$KM" --format $f || break; done
ok $? "km by node4 in json, table and csv" "$tmp/km.csv.err"
agree km "$tmp/km.json" "$tmp/km.table" "$tmp/km.csv" >"$tmp/e" 2>&1
ok $? "km: one CSV row and one table line per curve point, values as the JSON's" "$tmp/e"
grep -q '^ *time *n.risk *n.event *survival *std.err *lower 95% CI *upper 95% CI$' "$tmp/km.table" &&
  grep -q '^group=FALSE ' "$tmp/km.table" && grep -q '^Log-rank test: Chisq=' "$tmp/km.table"
ok $? "km table: survfit's summary header, the groups, the log-rank test" "$tmp/km.table"

python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if [c["group"] for c in r["curves"]] == [False, True] and [g["group"] for g in r["logrank"]["groups"]] == [False, True] else 1)' "$tmp/km.json"
ok $? "km: a boolean group's keys are JSON booleans" "$tmp/km.json"
sim "$tmp/kmd.json" km colon '{"time":"time","event":"status","group":"differ"}'
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if [c["group"] for c in r["curves"]] == [1, 2, 3] else 1)' "$tmp/kmd.json"
ok $? "km: an integer group's keys are JSON numbers" "$tmp/kmd.json"
sim "$tmp/cnt.csv" count colon '{"by":"differ"}' --format csv &&
  grep -q '^pooled.cells\[1\].value,1$' "$tmp/cnt.csv" && grep -q '^path,value$' "$tmp/cnt.csv"
ok $? "any other result: one CSV row per value, keys typed (count by differ)" "$tmp/cnt.csv"
sim "$tmp/bad" count colon '{}' --format xml
[ $? -eq 2 ] && grep -q -- '--format xml: give json, table or csv' "$tmp/bad.err"
ok $? "--format xml is a usage error" "$tmp/bad.err"
done_testing
