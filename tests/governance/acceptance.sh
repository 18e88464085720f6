#!/usr/bin/env bash
# acceptance.sh — issue 8's "Done when", end to end through a real federation
# on 127.0.0.1 (node, two station daemons, `pht run` as the analyst):
#   1. trains without a permit, under an expired, a revoked (list posted to
#      the node) and too-narrow permits (a column, the code hash, another
#      analyst) are refused: the analyst gets each station's signed refusal
#      with its category, each station's audit log the permit id and detail;
#   2. opted-out patients change no released number: a standard train with
#      an opt-out list gives byte for byte the result of the same train on a
#      copy of the data with those rows deleted, and another result without
#      the opt-out; the log says how many were excluded, never who;
#   3. `pht station halt` stops a running train (the latency is printed as
#      a diagnostic, never asserted);
#   4. an auditor bundle with the node's published head verifies offline in
#      a directory without the station's files; one flipped byte is caught;
#   5. the catalogue (`pht catalog`, GET /v1/catalog) lists every station's
#      datasets and not a single data value.
# Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
[ -x "$PHT" ] || { echo "Bail out! $PHT is not an executable"; exit 1; }
PHT=$(realpath "$PHT")
. "$(dirname "$0")/../lib.sh"
need curl

dir=$(mktemp -d /tmp/pht-gov-accept-XXXXXX)
node_pid=""
declare -A st_pid=()
cleanup() {
  local s
  for s in "${!st_pid[@]}"; do stop "${st_pid[$s]}"; done
  stop "$node_pid"
}
keep_on_failure "$dir"
at_exit cleanup

# alog S: the paths of station S's audit log files, oldest first (rotated ones, then the live one)
alog() { ls "$dir/$1"/audit.log.[0-9]* 2>/dev/null | sort; echo "$dir/$1/audit.log"; }
# acat S: S's whole audit log, every file in order
acat() { local f; for f in $(alog "$1"); do cat "$f"; done 2>/dev/null; }
# has S TEXT: S's audit log holds TEXT
has() { acat "$1" | grep -q -- "$2"; }
# train_id FILE: the round-1 train id pht run reported in its stderr FILE
train_id() { sed -n 's/.*round 1: train \([0-9a-f]*\) sent.*/\1/p' "$1" | head -n 1; }

# ---- PKI, keys ----
{
  "$PHT" pki init --out "$dir/ca" &&
  "$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name dab --out "$dir/dab-tls" &&
  for s in a b; do
    "$PHT" pki issue --ca "$dir/ca" --role station --name $s --out "$dir/$s/tls" &&
    "$PHT" keygen --name $s --out "$dir/$s/keys" || exit 1
  done &&
  "$PHT" keygen --name ana --out "$dir/ana-keys" &&
  "$PHT" keygen --name eve --out "$dir/eve-keys" &&
  "$PHT" keygen --name dab --out "$dir/dab-keys"
} >"$dir/setup.log" 2>&1
ok $? "PKI and keys: a node, stations a and b, analysts ana and eve, a permit authority" "$dir/setup.log"
mkdir -p "$dir/station-keys" "$dir/authorities"
cp "$dir/a/keys/a.sign.pub" "$dir/b/keys/b.sign.pub" "$dir/station-keys/"
cp "$dir/dab-keys/dab.sign.pub" "$dir/authorities/"

# ---- data: a cohort per station; station b's opt-out list and a copy of
# its data with the opted-out rows physically deleted ----
gen() { # gen OUT.csv SEED ROWS
  python3 - "$@" <<'PY'
import sys
out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = ["pid,age,sex,stage,weight"]
for i in range(n):
    rows.append("%d,%d,%s,%s,%.1f" % (7304000000 + seed * 100000 + i * 7919,
        31 + (i * 17 + seed * 5) % 55, "FM"[(i * 7 + seed) % 2],
        ["I", "II", "III"][(i + seed) % 3], 52.3 + ((i * 29 + seed * 11) % 430) / 10))
open(out, "w").write("\n".join(rows) + "\n")
PY
}
mkdir -p "$dir/a/data" "$dir/b/data"
cat >"$dir/a/data/cohort.dict.json" <<'EOF'
{"dataset": "cohort", "description": "Follow-up after treatment",
 "columns": [
  {"name": "pid", "type": "integer", "description": "pseudonym"},
  {"name": "age", "type": "integer", "unit": "years"},
  {"name": "sex", "type": "category", "levels": ["F", "M"]},
  {"name": "stage", "type": "category", "levels": ["I", "II", "III"]},
  {"name": "weight", "type": "number", "unit": "kg"}]}
EOF
cp "$dir/a/data/cohort.dict.json" "$dir/b/data/cohort.dict.json"
gen "$dir/a/data/cohort.csv" 1 52
gen "$dir/b/data/cohort.csv" 2 47
# seven patients of b opt out (rows 3, 9, 14, 22, 30, 37, 44)
awk -F, 'NR > 1 && index(",4,10,15,23,31,38,45,", "," (NR - 1) ",") { print $1 }' \
  "$dir/b/data/cohort.csv" >"$dir/b/data/optout.txt"
awk -F, 'NR == FNR { out[$1] = 1; next } !($1 in out)' "$dir/b/data/optout.txt" \
  "$dir/b/data/cohort.csv" >"$dir/b/data/deleted.csv"
n_out=$(wc -l <"$dir/b/data/optout.txt")
n_del=$(($(wc -l <"$dir/b/data/deleted.csv") - 1))
[ "$n_out" -eq 7 ] && [ "$n_del" -eq 40 ]
ok $? "station b: 47 patients, 7 opted out, a copy with their rows deleted holds $n_del"

cat >"$dir/node.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "permit_authorities": "authorities",
 "limits": {"max_wait": 10, "timeout": 60}}
EOF
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 10 test -s "$dir/port"
ok $? "node listening, with the permit authority configured" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"

# station_config STATION CSV OPT_OUT: writes $dir/STATION/station.json
station_config() {
  local catalog=""
  [ "$1" = a ] && catalog='"catalog": {"title": "Hospital A cohorts", "publisher": "Hospital A",
   "contact": {"name": "Data desk A", "email": "datadesk@hospital-a.example"},
   "access_rights": "restricted",
   "datasets": {"cohort": {"title": "Treatment cohort", "keywords": ["oncology"],
     "coding": {"sex": "http://hl7.org/fhir/administrative-gender"}}}},'
  cat >"$dir/$1/station.json" <<EOF
{"station": "$1",
 "datasets": {"cohort": {"csv": "$2", "dict": "data/cohort.dict.json"$3}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"},
             {"name": "eve", "key": "../eve-keys/eve.sign.pub", "mode": "auto"}],
 "policy": {"k": 5, "limits": {"instructions": 1000000000000, "time_seconds": 60}},
 "audit_log": "audit.log", "audit_rotate_kb": 8, "key": "keys/$1.sign.key", "seen_ids": "seen-ids",
 "permit_authorities": ["../dab-keys/dab.sign.pub"], $catalog
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF
}
OPTOUT=', "opt_out": {"file": "data/optout.txt", "column": "pid"}'
start_station() { # start_station S: starts S's daemon, waits until it published
  local before
  before=$(grep -c published "$dir/$1/daemon.log" 2>/dev/null)
  # a restart: the node keeps the first of two different catalogue entries
  # of a station published within one second (docs/catalog.md)
  [ "${before:-0}" -gt 0 ] && sleep 1
  "$PHT" station run --config "$dir/$1/station.json" --wait 2 --backoff-max 1 \
    2>>"$dir/$1/daemon.log" &
  st_pid[$1]=$!
  wait_until 30 sh -c "[ \"\$(grep -c published '$dir/$1/daemon.log')\" -gt ${before:-0} ]"
}
station_config a data/cohort.csv ""
station_config b data/cohort.csv "$OPTOUT"
start_station a && start_station b
ok $? "station daemons a and b polling, b with its opt-out list" "$dir/b/daemon.log"

# ---- 5. the catalogue: every station's datasets, no data value ----
"$PHT" catalog --node "$url" --cert "$dir/ana-tls/cert.pem" --key "$dir/ana-tls/key.pem" \
  --ca "$dir/ca/ca.pem" --json >"$dir/catalog.jsonld" 2>"$dir/catalog.err"
ok $? "pht catalog --json fetches the federation's catalogue" "$dir/catalog.err"
"$PHT" catalog --node "$url" --cert "$dir/ana-tls/cert.pem" --key "$dir/ana-tls/key.pem" \
  --ca "$dir/ca/ca.pem" >"$dir/catalog.txt" 2>>"$dir/catalog.err"
grep -q "^station a: " "$dir/catalog.txt" && grep -q "^station b: " "$dir/catalog.txt" &&
  [ "$(grep -c "^  dataset cohort: " "$dir/catalog.txt")" -eq 2 ]
ok $? "pht catalog prints both stations' cohort datasets for analysts" "$dir/catalog.txt"
curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/ana-tls/cert.pem" \
  --key "$dir/ana-tls/key.pem" "$url/v1/catalog" >"$dir/catalog.get" 2>&1
ok $? "GET /v1/catalog answers" "$dir/catalog.get"
python3 - "$dir" >"$dir/catalog.check" 2>&1 <<'PY'
import csv, json, re, sys
d = sys.argv[1]
fails = []
docs = {"pht catalog": json.load(open(d + "/catalog.jsonld")),
        "GET /v1/catalog": json.load(open(d + "/catalog.get"))}
optout = set(open(d + "/b/data/optout.txt").read().split())
data = {"a": d + "/a/data/cohort.csv", "b": d + "/b/data/cohort.csv"}
levels = set()
for c in json.load(open(d + "/a/data/cohort.dict.json"))["columns"]:
    levels.update(c.get("levels", []))
cells = set()
for path in data.values():
    for r in csv.DictReader(open(path)):
        cells.update(v for v in r.values() if v != "")
cells -= levels
for what, doc in docs.items():
    st = {c.get("dct:identifier"): c for c in doc.get("dcat:catalog", [])}
    if sorted(st) != ["a", "b"]:
        fails.append("%s: stations %s, want a and b" % (what, sorted(st)))
        continue
    for s, path in data.items():
        ds = [x for x in st[s].get("dcat:dataset", []) if x.get("dct:identifier") == "cohort"]
        if len(ds) != 1:
            fails.append("%s: station %s does not list dataset cohort once" % (what, s))
            continue
        rows = [r for r in csv.DictReader(open(path)) if r["pid"] not in optout]
        want = (len(rows) + 5) // 10 * 10
        if ds[0].get("healthdcatap:numberOfRecords") != want:
            fails.append("%s: %s/cohort records %s, want %d (%d rows rounded)" % (
                what, s, ds[0].get("healthdcatap:numberOfRecords"), want, len(rows)))
        names = sorted(c.get("csvw:name") for c in ds[0]["csvw:tableSchema"]["csvw:column"])
        if names != sorted(["pid", "age", "sex", "stage", "weight"]):
            fails.append("%s: %s/cohort variables %s" % (what, s, names))
    strings, numbers = [], []
    def walk(v, key=None):
        if isinstance(v, dict):
            for k, x in v.items():
                strings.append((None, k)); walk(x, k)
        elif isinstance(v, list):
            for x in v: walk(x, key)
        elif isinstance(v, bool):
            pass
        elif isinstance(v, (int, float)):
            numbers.append((key, v))
        elif isinstance(v, str):
            strings.append((key, v))
    walk(doc)
    # the only numbers: record counts, rounded to 10
    odd = [(k, v) for k, v in numbers if k != "healthdcatap:numberOfRecords" or v % 10 != 0]
    if odd:
        fails.append("%s: numbers other than rounded counts: %s" % (what, odd[:5]))
    tokens = set()
    for k, v in strings:
        tokens.add(v)
        if k != "@id" and not re.match(r"^(https?|urn|mailto):", v):
            tokens.update(t for t in re.split(r"[\s,;:()\[\]{}\"'/]+", v) if t)
    leaked = sorted(c for c in cells if c in tokens)
    if leaked:
        fails.append("%s: cell values in the catalogue: %s" % (what, leaked[:10]))
    raw = json.dumps(doc)
    hits = [c for c in cells if len(c) >= 4 and c in raw]
    if hits:
        fails.append("%s: cell values in the raw text: %s" % (what, hits[:10]))
# the analysts' summary: no cell value as a word (a number may only be a rounded count)
for w in re.split(r"[\s,;:()\[\]{}\"'/]+", open(d + "/catalog.txt").read()):
    if w in cells and not (w.isdigit() and int(w) % 10 == 0):
        fails.append("pht catalog: cell value %r in the summary" % w)
print("checked %d distinct cell values" % len(cells))
for f in fails:
    print("FAIL: " + f)
sys.exit(1 if fails else 0)
PY
ok $? "both list a/cohort and b/cohort (counts rounded to 10, after opt-outs), every variable, no cell value; nor does the summary" "$dir/catalog.check"

# ---- permits ----
AUTH=$dir/dab-keys/dab.sign.key
SUMMARY=$SRC/trains/std/summary.lua
COUNT=$SRC/trains/std/count.lua
cat >"$dir/spin.lua" <<'LUA'
return {
  name = "spin", version = "1",
  station = function(data, params, round)
    local x = 0
    while true do x = x + 1 end
    return { x = x }
  end,
  combine = function(results, params, round) return { done = true, result = {} } end,
}
LUA
cat >"$dir/sumf.lua" <<'LUA'
return {
  name = "sumf", version = "1",
  station = function(data, params, round)
    local f = data:where("sex", "==", "F")
    return { n = f:nrows(), weight = f:column("weight"):sum() }
  end,
  combine = function(results, params, round)
    local out = {}
    for i, r in ipairs(results) do out[results.stations[i]] = r end
    return { done = true, result = out }
  end,
}
LUA
permit() { # permit ID ARGS...: the authority issues permit ID (defaults overridable by ARGS)
  local id=$1; shift
  "$PHT" permit issue --key "$AUTH" --id "$id" --station a --station b --dataset cohort \
    --purpose "acceptance: weight after treatment" "$@" --out "$dir/$id.permit" \
    >>"$dir/issue.log" 2>&1
}
ANA="ana=$dir/ana-keys/ana.sign.pub"
permit P-ok --analyst "$ANA" --columns cohort:age,weight --train "$SUMMARY" \
  --from 2020-01-01 --until 30d &&
permit P-exp --analyst "$ANA" --columns cohort:age,weight --train "$SUMMARY" \
  --from 2020-01-01 --until 2020-02-01 &&
permit P-rev --analyst "$ANA" --columns cohort:age,weight --train "$SUMMARY" \
  --from 2020-01-01 --until 30d &&
permit P-col --analyst "$ANA" --columns cohort:age --train "$SUMMARY" \
  --from 2020-01-01 --until 30d &&
permit P-code --analyst "$ANA" --columns cohort:age,weight --train "$COUNT" \
  --from 2020-01-01 --until 30d &&
permit P-eve --analyst "eve=$dir/eve-keys/eve.sign.pub" --columns cohort:age,weight \
  --train "$SUMMARY" --from 2020-01-01 --until 30d &&
permit P-spin --analyst "$ANA" --columns cohort:age --train "$dir/spin.lua" \
  --from 2020-01-01 --until 30d &&
permit P-f --analyst "$ANA" --columns cohort:sex,weight --train "$dir/sumf.lua" \
  --from 2020-01-01 --until 30d
ok $? "the authority issues the permits (good, expired, to revoke, one column, other code, other analyst)" "$dir/issue.log"

# ---- revocation list through the node ----
"$PHT" permit revoke --key "$AUTH" --seq 1 --id P-rev --out "$dir/rev1" >"$dir/revoke.log" 2>&1 &&
"$PHT" permit post "$dir/rev1" --node "$url" --cert "$dir/dab-tls/cert.pem" \
  --tls-key "$dir/dab-tls/key.pem" --ca "$dir/ca/ca.pem" >>"$dir/revoke.log" 2>&1
ok $? "pht permit post: the revocation list of P-rev reaches the node" "$dir/revoke.log"
wait_until 20 has a '"event":"revocations"' && wait_until 20 has b '"event":"revocations"' 
ok $? "both daemons fetched it within a poll cycle and logged it" "$dir/b/daemon.log"

# ---- 1. refusals: each run in parallel; each station answers with a signed refusal ----
run() { # run NAME TRAIN ARGS...: pht run as ana at a and b; stdout NAME.json, stderr NAME.err
  local name=$1 train=$2; shift 2
  "$PHT" run "$train" --node "$url" --cert "$dir/ana-tls/cert.pem" --key "$dir/ana-tls/key.pem" \
    --ca "$dir/ca/ca.pem" --sign-key "$dir/ana-keys/ana.sign.key" \
    --station-keys "$dir/station-keys" --datasets cohort --timeout 40s "$@" \
    >"$dir/$name.json" 2>"$dir/$name.err"
  echo $? >"$dir/$name.rc"
}
P2='{"columns":["age","weight"]}'
run nopermit "$SUMMARY" --stations a,b --params "$P2" &
r1=$!
run exp "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-exp.permit" &
r2=$!
run rev "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-rev.permit" &
r3=$!
run col "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-col.permit" &
r4=$!
run code "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-code.permit" &
r5=$!
run eve "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-eve.permit" &
r6=$!
for p in $r1 $r2 $r3 $r4 $r5 $r6; do
  for _ in $(seq 1 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$p" 2>/dev/null
  wait "$p"
done
ANA_FP=$(python3 - "$dir/ana-keys/ana.sign.pub" <<'PY'
import base64, hashlib, sys
der = base64.b64decode("".join(l for l in open(sys.argv[1]) if not l.startswith("-----")))
print(hashlib.sha256(der[-32:]).hexdigest())
PY
)
# the code hash is the assembled train's (what pht train sign signs)
COUNT_SHA=$("$PHT" train assemble "$COUNT" | sha256sum | cut -d' ' -f1)
SUMMARY_SHA=$("$PHT" train assemble "$SUMMARY" | sha256sum | cut -d' ' -f1)
# refused NAME PERMIT EVENT CATEGORY DETAIL WHAT: pht run exited 1 with nothing on
# stdout; for each station, the analyst's line starts with CATEGORY (the outcome and
# the station's reason category) and ends with an audit reference
# (seq, hash) that is the station's EVENT entry for the train, which carries PERMIT
# and the full DETAIL in its reason
refused() {
  acat a >"$dir/a.alog"; acat b >"$dir/b.alog"
  python3 - "$dir" "$@" >"$dir/$1.check" 2>&1 <<'PY'
import json, re, sys
d, name, permit, event, category, detail = sys.argv[1:7]
fails = []
rc = open("%s/%s.rc" % (d, name)).read().strip()
err = open("%s/%s.err" % (d, name)).read()
if rc != "1":
    fails.append("pht run exit %s, want 1" % rc)
if open("%s/%s.json" % (d, name)).read() != "":
    fails.append("something on stdout")
m = re.search(r"round 1: train ([0-9a-f]+) sent", err)
train = m.group(1) if m else None
for s in "ab":
    m = re.search(r"station %s, round 1: (.*) \(audit entry seq (\d+), hash ([0-9a-f]{64})\)$" % s,
                  err, re.M)
    if not m:
        fails.append("no refusal from station %s with an audit reference" % s)
        continue
    if not m.group(1).startswith(category):
        fails.append("station %s told %r, want category %r" % (s, m.group(1), category))
    seq, h = int(m.group(2)), m.group(3)
    lines = [json.loads(l) for l in open("%s/%s.alog" % (d, s))]
    hit = [l for l in lines if l["entry"]["seq"] == seq]
    if not hit or hit[0]["hash"] != h:
        fails.append("station %s: the reference seq %d is not an entry of its log" % (s, seq))
        continue
    e = hit[0]["entry"]
    if e.get("event") != event or e.get("train") != train:
        fails.append("station %s: entry %d is %s for %s, want %s for %s" % (
            s, seq, e.get("event"), e.get("train"), event, train))
    if permit != "-" and e.get("permit") != permit:
        fails.append("station %s: entry %d has permit %r, want %r" % (s, seq, e.get("permit"), permit))
    want = detail.replace("STATION", s)
    if want not in e.get("reason", ""):
        fails.append("station %s: reason %r lacks %r" % (s, e.get("reason"), want))
    if any(x["entry"].get("event") == "released" and x["entry"].get("train") == train for x in lines):
        fails.append("station %s released it" % s)
for f in fails:
    print("FAIL: " + f)
sys.exit(1 if fails else 0)
PY
  ok $? "$6" "$dir/$1.check"
}
refused nopermit - rejected "rejected: refused: permit or halt" \
  "no permit: station STATION runs trains only under a data permit" \
  "no permit: both stations refuse, the analyst gets each signed refusal; both logs say why"
refused exp P-exp rejected "rejected: refused: expired" "permit P-exp: expired at 2020-02-01T00:00:00Z" \
  "expired permit: refused at both stations, logged with P-exp and the detail"
refused rev P-rev rejected "rejected: refused: permit or halt" "permit P-rev was revoked (revocation list seq 1)" \
  "revoked permit (list fetched from the node): refused at both, logged with P-rev"
# which columns a train reads may depend on data values: told the one answer
acat a >"$dir/a.alog"; acat b >"$dir/b.alog"
python3 - "$dir" col P-col >"$dir/col.check" 2>&1 <<'PY'
import json, re, sys
d, name, permit = sys.argv[1:4]
generic = "failed: the run produced no releasable result (details in the station's audit log)"
fails = []
err = open("%s/%s.err" % (d, name)).read()
if open("%s/%s.rc" % (d, name)).read().strip() != "1" or open("%s/%s.json" % (d, name)).read():
    fails.append("pht run did not fail with nothing on stdout")
m = re.search(r"round 1: train ([0-9a-f]+) sent", err)
train = m.group(1) if m else None
for s in "ab":
    if not re.search(r"station %s, round 1: %s$" % (s, re.escape(generic)), err, re.M):
        fails.append("station %s: not the generic answer" % s)
    lines = [json.loads(l)["entry"] for l in open("%s/%s.alog" % (d, s))]
    w = [e for e in lines if e.get("event") == "withheld" and e.get("train") == train]
    if not w or w[0].get("permit") != permit or w[0].get("data_dependent") is not True or \
       "the train read column weight of dataset cohort" not in w[0].get("reason", ""):
        fails.append("station %s: no withheld entry with the permit and the detail" % s)
    if any(e.get("event") == "released" and e.get("train") == train for e in lines):
        fails.append("station %s released it" % s)
for f in fails:
    print("FAIL: " + f)
sys.exit(1 if fails else 0)
PY
ok $? "a column the permit does not allow: withheld at both, the analyst told the one answer, logged with P-col and the detail" "$dir/col.check"
refused code P-code rejected "rejected: refused: permit or halt" "permit P-code: does not allow train code $SUMMARY_SHA" \
  "code the permit does not allow: refused at both, logged with P-code"
refused eve P-eve rejected "rejected: refused: permit or halt" "permit P-eve: signer $ANA_FP is not among its data users" \
  "another analyst's permit: refused at both, logged with P-eve"
# what the analyst was told holds no data value (weights, pseudonyms) of either station
python3 - "$dir" nopermit exp rev col code eve >"$dir/told.check" 2>&1 <<'PY'
import csv, re, sys
d, names = sys.argv[1], sys.argv[2:]
vals = set()
for s in "ab":
    for r in csv.DictReader(open("%s/%s/data/cohort.csv" % (d, s))):
        vals.update((r["pid"], r["weight"]))
bad = []
for nm in names:
    text = open("%s/%s.err" % (d, nm)).read() + open("%s/%s.json" % (d, nm)).read()
    bad += ["%s: %s" % (nm, t) for t in re.split(r"[^0-9.]+", text) if t.strip(".") in vals]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
ok $? "no refusal the analyst got names a data value" "$dir/told.check"

# ---- 2. opted-out patients change no released number ----
run optout "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-ok.permit"
[ "$(cat "$dir/optout.rc")" = 0 ] && [ -s "$dir/optout.json" ]
ok $? "(a) summary.lua at a and b, b with 7 patients opted out: released" "$dir/optout.err"
T_A=$(train_id "$dir/optout.err")
acat b >"$dir/b.alog"
python3 - "$dir/b.alog" "$T_A" "$n_out" "$(sha256sum "$dir/b/data/optout.txt" | cut -d' ' -f1)" <<'PY'
import json, sys
path, train, n, sha = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ex = [json.loads(l)["entry"] for l in open(path)]
ex = [e for e in ex if e.get("event") == "executed" and e.get("train") == train]
sys.exit(0 if len(ex) == 1 and ex[0].get("opt_out_excluded") == n and ex[0].get("opt_out_sha256") == sha
         and ex[0].get("permit") == "P-ok" else 1)
PY
ok $? "  b's executed entry records opt_out_excluded $n_out and the list's hash, under P-ok"

stop "${st_pid[b]}"
station_config b data/deleted.csv ""
start_station b
ok $? "station b restarted on the copy with the opted-out rows deleted (no opt-out)" "$dir/b/daemon.log"
run deleted "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-ok.permit"
[ "$(cat "$dir/deleted.rc")" = 0 ] && [ -s "$dir/deleted.json" ]
ok $? "(b) the same train on the deleted copy: released" "$dir/deleted.err"
cmp "$dir/optout.json" "$dir/deleted.json" >"$dir/cmp.out" 2>&1
ok $? "  (a) and (b) are byte-identical" "$dir/cmp.out"
python3 - "$dir/deleted.json" "$n_del" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b = [s for s in r["stations"] if s["id"] == "b"][0]
sys.exit(0 if all(c["n"] == int(sys.argv[2]) for c in b["numeric"]) and len(b["numeric"]) == 2 else 1)
PY
ok $? "  and b's n is the $n_del rows left, counted from the file" "$dir/deleted.json"

stop "${st_pid[b]}"
station_config b data/cohort.csv ""
start_station b
ok $? "station b restarted on its full data without the opt-out" "$dir/b/daemon.log"
run full "$SUMMARY" --stations a,b --params "$P2" --permit-file "$dir/P-ok.permit"
[ "$(cat "$dir/full.rc")" = 0 ] && [ -s "$dir/full.json" ] && ! cmp -s "$dir/optout.json" "$dir/full.json"
ok $? "(c) without the opt-out the result differs (so the comparison can fail)" "$dir/full.err"
"$PHT" catalog --node "$url" --cert "$dir/ana-tls/cert.pem" --key "$dir/ana-tls/key.pem" \
  --ca "$dir/ca/ca.pem" --json >"$dir/catalog2.jsonld" 2>"$dir/catalog2.err"
python3 - "$dir/catalog2.jsonld" "$(($(wc -l <"$dir/b/data/cohort.csv") - 1))" <<'PY'
import json, sys
want = (int(sys.argv[2]) + 5) // 10 * 10
b = [c for c in json.load(open(sys.argv[1]))["dcat:catalog"] if c["dct:identifier"] == "b"][0]
sys.exit(0 if [d["healthdcatap:numberOfRecords"] for d in b["dcat:dataset"]] == [want] else 1)
PY
ok $? "  and b, restarted without the opt-out, republished its catalogue with all its records (rounded)" "$dir/catalog2.err"

# (d) a patient who opts out after a release: the same query again must not
# give her away by difference
stop "${st_pid[b]}"
station_config b data/cohort.csv "$OPTOUT"
start_station b
run f1 "$dir/sumf.lua" --stations b --permit-file "$dir/P-f.permit"
[ "$(cat "$dir/f1.rc")" = 0 ] && grep -q '"weight"' "$dir/f1.json"
ok $? "(d) b, with its 7 opt-outs again, releases the women's number and weight sum" "$dir/f1.err"
awk -F, 'NR == FNR { out[$1] = 1; next } FNR > 1 && $3 == "F" && !($1 in out) { print $1; exit }' \
  "$dir/b/data/optout.txt" "$dir/b/data/cohort.csv" >>"$dir/b/data/optout.txt"
run f2 "$dir/sumf.lua" --stations b --permit-file "$dir/P-f.permit"
[ "$(cat "$dir/f2.rc")" = 1 ] && [ ! -s "$dir/f2.json" ] &&
  grep -q "station b, round 1: failed: the run produced no releasable result" "$dir/f2.err"
ok $? "  one more woman opts out while b runs: the same query is withheld, its difference would be her weight" "$dir/f2.err"
T_F2=$(train_id "$dir/f2.err")
acat b >"$dir/b.alog"
python3 - "$dir/b.alog" "$T_F2" <<'PY'
import json, sys
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
mine = [e for e in ev if e.get("train") == sys.argv[2]]
ex = [e for e in mine if e["event"] == "executed"]
wh = [e for e in mine if e["event"] == "withheld"]
sys.exit(0 if ex and ex[0].get("opt_out_excluded") == 8 and wh and "a group of 1 row" in wh[0].get("reason", "")
         and not any(e["event"] == "released" for e in mine) else 1)
PY
ok $? "  b's log: the changed list applied (8 excluded), withheld: with it a group of 1 row would follow from the earlier releases"
leaks=""
for p in $(cat "$dir/b/data/optout.txt"); do
  grep -rl --exclude-dir=data -- "$p" "$dir/a" "$dir/b" "$dir"/node.db* "$dir"/*.json "$dir"/*.err \
    >>"$dir/leaks" 2>/dev/null &&
    leaks="$leaks $p"
done
[ -z "$leaks" ]
ok $? "no opted-out pseudonym in the stations' logs and side files, the node's database, any result or message${leaks:+ (found:$leaks)}" "$dir/leaks"

# ---- 3. a halt stops a running train ----
run spin "$dir/spin.lua" --stations a --permit-file "$dir/P-spin.permit" &
spin_pid=$!
T_S=""
running() { T_S=$(train_id "$dir/spin.err"); [ -n "$T_S" ] &&
  has a "\"event\":\"received\".*\"train\":\"$T_S\""; }
# under way: received, and the daemon has forked the sandboxed run (its only child)
wait_until 20 running && wait_until 20 pgrep -P "${st_pid[a]}" >/dev/null
ok $? "a spinning train is running at station a (its sandbox process started)" "$dir/spin.err"
sleep 0.3
t0=$(date +%s%N)
"$PHT" station halt --config "$dir/a/station.json" --by steward --reason "acceptance" \
  >"$dir/halt.log" 2>&1
ok $? "pht station halt while it runs" "$dir/halt.log"
stopped() { has a "\"event\":\"failed\".*\"train\":\"$T_S\""; }
for _ in $(seq 1 500); do stopped && break; sleep 0.02; done
t1=$(date +%s%N)
stopped
ok $? "the train was stopped within the bounded wait (10 s; its own limit is 60 s)" "$dir/a/daemon.log"
echo "# stop latency: $(( (t1 - t0) / 1000000 )) ms from pht station halt to the failed entry"
acat a >"$dir/a.alog"
python3 - "$dir/a.alog" "$T_S" <<'PY'
import json, sys
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
h = [i for i, e in enumerate(ev) if e["event"] == "halted" and e.get("by") == "steward"]
f = [i for i, e in enumerate(ev) if e["event"] == "failed" and e.get("train") == sys.argv[2]]
sys.exit(0 if h and f and h[-1] < f[0] and "the run was stopped" in ev[f[0]].get("reason", "")
         and ev[f[0]].get("permit") == "P-spin"
         and not any(e["event"] == "released" and e.get("train") == sys.argv[2] for e in ev) else 1)
PY
ok $? "  logged: halted, then failed (the run was stopped) with P-spin; nothing released"
for _ in $(seq 1 300); do kill -0 "$spin_pid" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$spin_pid" 2>/dev/null
wait "$spin_pid"
[ "$(cat "$dir/spin.rc")" = 1 ] &&
  grep -q "station a, round 1: failed: halted: the station was halted while the train ran (audit entry seq" "$dir/spin.err"
ok $? "  the analyst got a's signed answer: halted" "$dir/spin.err"
"$PHT" station resume --config "$dir/a/station.json" --by steward >"$dir/resume.log" 2>&1 &&
  has a '"event":"resumed"' 
ok $? "pht station resume, logged" "$dir/resume.log"

# ---- 4. an auditor bundle with the node's head verifies offline ----
curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/ana-tls/cert.pem" \
  --key "$dir/ana-tls/key.pem" "$url/v1/stations" >"$dir/stations.json" 2>&1
acat a >"$dir/a.alog"
python3 - "$dir/stations.json" "$dir/a.alog" >"$dir/heads.json" 2>"$dir/heads.err" <<'PY'
import json, sys
st = [s for s in json.load(open(sys.argv[1]))["stations"] if s["id"] == "a"]
head = st[0]["log_head"]
seqs = {json.loads(l)["entry"]["seq"] for l in open(sys.argv[2])}
assert head["seq"] in seqs, "the node's head %s is not in a's log" % head
print(json.dumps(head))
PY
ok $? "the node publishes station a's log head (GET /v1/stations)" "$dir/heads.err"
from=$(date -u -d '-1 day' +%Y-%m-%d)
to=$(date -u -d '+1 day' +%Y-%m-%d)
"$PHT" audit export --config "$dir/a/station.json" --from "$from" --to "$to" \
  --head-file "$dir/heads.json" --out "$dir/bundle" >"$dir/export.log" 2>&1
ok $? "pht audit export --from $from --to $to --head-file: station a's log, rotated at 8 KiB" "$dir/export.log"
mkdir -p "$dir/auditor"
cp -r "$dir/bundle" "$dir/auditor/bundle"
cp "$dir/station-keys/a.sign.pub" "$dir/auditor/"
(cd "$dir/auditor" && "$PHT" audit verify bundle --station-key a.sign.pub) >"$dir/verify.log" 2>&1
rc=$?
entries=$(acat a | grep -c .)
files=$(alog a | wc -l)
[ $rc -eq 0 ] && [ "$files" -ge 2 ] && grep -q "bundle: OK, $entries entries (1 to $entries)" "$dir/verify.log" &&
  grep -q "node heads: 1 matched" "$dir/verify.log"
ok $? "in a fresh directory, pht audit verify BUNDLE: all $entries entries (of $files files: the log rotated) and the node's head" "$dir/verify.log"
cp -r "$dir/bundle" "$dir/auditor/flipped"
python3 - "$dir/auditor/flipped" <<'PY'
import hashlib, sys
p = sys.argv[1] + "/entries.log"
b = bytearray(open(p, "rb").read())
lines = b.split(b"\n")
# flip one bit of a letter inside the third entry's ENTRY (after "entry":)
start = sum(len(l) + 1 for l in lines[:2])
i = b.index(b'"event":"', start) + len('"event":"')
b[i] ^= 0x01
open(p, "wb").write(b)
PY
(cd "$dir/auditor" && "$PHT" audit verify flipped) >"$dir/flip.log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "flipped: BROKEN" "$dir/flip.log" && grep -q "entries.log: SHA-256" "$dir/flip.log"
ok $? "one flipped byte: verify fails (exit 1) naming the entries' SHA-256 mismatch" "$dir/flip.log"
python3 - "$dir/auditor/flipped" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
m = json.load(open(d + "/bundle.json"))
m["entries_sha256"] = hashlib.sha256(open(d + "/entries.log", "rb").read()).hexdigest()
json.dump(m, open(d + "/bundle.json", "w"))
PY
(cd "$dir/auditor" && "$PHT" audit verify flipped) >"$dir/flip2.log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "flipped/entries.log:3: hash mismatch" "$dir/flip2.log"
ok $? "  and with the manifest's hash forged too: hash mismatch at line 3" "$dir/flip2.log"

for s in a b; do
  "$PHT" audit verify $(alog $s) --station-key "$dir/station-keys/$s.sign.pub" \
    >"$dir/verify-$s.log" 2>&1 || break
done
ok $? "both stations' audit logs verify, every rotated file in one chain" "$dir/verify-$s.log"
acat a >"$dir/a.alog"; acat b >"$dir/b.alog"
python3 - "$dir/a.alog" "$dir/b.alog" >"$dir/permits.check" 2>&1 <<'PY'
import json, sys
bad = []
for path in sys.argv[1:]:
    ev = [json.loads(l)["entry"] for l in open(path)]
    named = {e["train"]: e.get("permit") for e in ev if e["event"] == "received" and e.get("permit")}
    for e in ev:
        if e.get("train") in named and e.get("permit") != named[e["train"]]:
            bad.append("%s: entry %d (%s) of train %s has permit %r, not %r" % (
                path, e["seq"], e["event"], e["train"], e.get("permit"), named[e["train"]]))
    if len(named) < 6:
        bad.append("%s: only %d trains under a permit" % (path, len(named)))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
ok $? "every audit entry about a train under a permit carries its permit id" "$dir/permits.check"
! grep -l 'Sanitizer\|runtime error' "$dir"/*.err "$dir"/[ab]/daemon.log "$dir/node.log" >"$dir/san.out" 2>/dev/null
ok $? "no sanitizer report from pht run, the node or the daemons" "$dir/san.out"

done_testing
