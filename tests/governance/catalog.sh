#!/usr/bin/env bash
# catalog.sh — the published catalogue: two station daemons publish their
# HealthDCAT-AP entries to a real node; `pht catalog` lists every dataset of
# every station, with record counts rounded to 10, and not a single data
# value; `pht station catalog` prints a station's own entry offline. Then,
# end to end through the same federation, what analysts are told when a
# train fails on data holding sentinel values: a category and the audit
# entry, never a value or a row number. Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
. "$(dirname "$0")/../lib.sh"

dir=$(mktemp -d /tmp/pht-gov-catalog-XXXXXX)
node_pid=""
pids=""

cleanup() {
  local p
  for p in $pids; do stop "$p"; done
  stop "$node_pid"
}
keep_on_failure "$dir"
at_exit cleanup

# ---- PKI, keys, data
fed_pki "$dir" "a b"
ok $? "PKI and keys for a node, two stations and an analyst" "$dir/setup.log"
mkdir -p "$dir/a/data" "$dir/b/data"
cp "$SRC/tests/data/station/registry.csv" "$SRC/tests/data/station/registry.dict.json" "$dir/a/data/"
# station b: a cohort with sentinel values and a pseudonym list opting 3 out
cat >"$dir/b/data/cohort.dict.json" <<'EOF2'
{"dataset": "cohort", "description": "Follow-up of an orphan drug",
 "columns": [
  {"name": "pid", "type": "integer", "role": "identifier", "description": "pseudonym"},
  {"name": "weight", "type": "number", "unit": "kg"},
  {"name": "stage", "type": "category", "levels": ["I", "II", "III"]},
  {"name": "seen", "type": "date"},
  {"name": "alive", "type": "boolean"}]}
EOF2
python3 - "$dir/b/data/cohort.csv" <<'PY'
import sys
rows = ["pid,weight,stage,seen,alive"]
for i in range(47):
    w = "987654.321" if i == 7 else "%.1f" % (61.3 + (i * 13) % 37)
    rows.append("%d,%s,%s,20%02d-0%d-1%d,%d" % (830001 + i, w, ["I", "II", "III"][i % 3],
                10 + i % 9, 1 + i % 9, i % 10, i % 2))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
printf '830002\n830005\n830009\n' >"$dir/b/data/optout.txt"

cat >"$dir/node.json" <<EOF2
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 10, "timeout": 60}}
EOF2
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 10 test -s "$dir/port"
ok $? "node listening" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"

cat >"$dir/a/station.json" <<EOF2
{"station": "a",
 "datasets": {"registry": {"csv": "data/registry.csv"}},
 "signers": [], "audit_log": "audit.log", "key": "keys/a.sign.key", "seen_ids": "seen-ids",
 "catalog": {"title": "Hospital A registries", "publisher": "Hospital A",
   "contact": {"name": "Data desk A", "email": "datadesk@hospital-a.example"},
   "access_rights": "restricted",
   "datasets": {"registry": {"title": "Expensive drugs registry",
     "description": "Outcomes of expensive drugs in daily practice",
     "keywords": ["oncology"],
     "coding": {"sex": "http://hl7.org/fhir/administrative-gender"}}}},
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF2
cat >"$dir/b/station.json" <<EOF2
{"station": "b",
 "datasets": {"cohort": {"csv": "data/cohort.csv",
                         "opt_out": {"file": "data/optout.txt", "column": "pid"}},
              "copy": {"csv": "../a/data/registry.csv"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"}],
 "policy": {"k": 5, "output": {"max_string": 32},
            "limits": {"instructions": 100000000, "time_seconds": 30}},
 "audit_log": "audit.log", "key": "keys/b.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF2

# ---- offline: a station's own entry
"$PHT" station catalog --config "$dir/a/station.json" >"$dir/a.jsonld" 2>"$dir/a.err"
ok $? "pht station catalog prints station a's entry" "$dir/a.err"
"$PHT" station catalog --config "$dir/b/station.json" >"$dir/b.jsonld" 2>"$dir/b.err"
ok $? "pht station catalog prints station b's entry" "$dir/b.err"

# ---- published through the daemons
for s in a b; do
  "$PHT" station run --config "$dir/$s/station.json" --wait 2 --backoff-max 1 2>>"$dir/$s/daemon.log" &
  pids="$pids $!"
done
wait_until 30 grep -qs "published" "$dir/a/daemon.log" && wait_until 30 grep -qs "published" "$dir/b/daemon.log"
ok $? "both daemons published" "$dir/b/daemon.log"
"$PHT" catalog --node "$url" --cert "$dir/ana-tls/cert.pem" --key "$dir/ana-tls/key.pem" \
  --ca "$dir/ana-tls/ca.pem" --json >"$dir/fed.jsonld" 2>"$dir/fed.err"
ok $? "pht catalog fetches the federation's catalogue (GET /v1/catalog)" "$dir/fed.err"
"$PHT" catalog --node "$url" --cert "$dir/ana-tls/cert.pem" --key "$dir/ana-tls/key.pem" \
  --ca "$dir/ana-tls/ca.pem" >"$dir/fed.txt" 2>"$dir/fed.err"
grep -q "dataset cohort" "$dir/fed.txt" && grep -q "dataset registry" "$dir/fed.txt"
ok $? "and prints a summary for analysts" "$dir/fed.txt"

# ---- the checks, computed from the data files independently
python3 - "$dir" >"$dir/check.out" 2>&1 <<'PY'
import csv, json, re, sys
d = sys.argv[1]
fed = json.load(open(d + "/fed.jsonld"))
off = {s: json.load(open("%s/%s.jsonld" % (d, s))) for s in "ab"}
fails = []
def check(cond, what):
    if not cond:
        fails.append(what)
files = {("a", "registry"): (d + "/a/data/registry.csv", d + "/a/data/registry.dict.json", set()),
         ("b", "cohort"): (d + "/b/data/cohort.csv", d + "/b/data/cohort.dict.json",
                           set(open(d + "/b/data/optout.txt").read().split())),
         ("b", "copy"): (d + "/a/data/registry.csv", d + "/a/data/registry.dict.json", set())}
check(fed.get("@type") == "dcat:Catalog" and isinstance(fed.get("dcat:catalog"), list), "federation is a dcat:Catalog")
stations = {c.get("dct:identifier"): c for c in fed["dcat:catalog"]}
check(sorted(stations) == ["a", "b"], "both stations listed: %s" % sorted(stations))
for (st, ds), (path, dpath, optout) in files.items():
    cat = stations.get(st, {})
    entry = [x for x in cat.get("dcat:dataset", []) if x.get("dct:identifier") == ds]
    check(len(entry) == 1, "%s/%s listed" % (st, ds))
    if not entry:
        continue
    e = entry[0]
    rows = list(csv.DictReader(open(path)))
    nrows = len([r for r in rows if r.get("pid") not in optout]) if "pid" in rows[0] else len(rows)
    want = (nrows + 5) // 10 * 10
    check(e.get("healthdcatap:numberOfRecords") == want, "%s/%s records %s, want %d (rounded from %d)" % (st, ds, e.get("healthdcatap:numberOfRecords"), want, nrows))
    check(e.get("@type") == "dcat:Dataset" and e.get("dct:title") and "dcatap:applicableLegislation" in e
          and e.get("dct:accessRights", {}).get("@id", "").startswith("http://publications.europa.eu/resource/authority/access-right/"),
          "%s/%s has title, legislation, access rights" % (st, ds))
    dic = json.load(open(dpath))
    cols = {c["csvw:name"]: c for c in e["csvw:tableSchema"]["csvw:column"]}
    check(sorted(cols) == sorted(c["name"] for c in dic["columns"]), "%s/%s lists every variable" % (st, ds))
    for c in dic["columns"]:
        ident = c.get("role") == "identifier"
        check(cols[c["name"]].get("csvw:suppressOutput", False) is ident,
              "%s/%s %s: csvw:suppressOutput %s" % (st, ds, c["name"], "true (the identifier)" if ident else "absent"))
    for c in dic["columns"]:
        if c["type"] == "category":
            got = [k["skos:prefLabel"] for k in cols[c["name"]]["skos:inScheme"]["skos:hasTopConcept"]]
            check(got == c["levels"], "%s/%s %s code list" % (st, ds, c["name"]))
svc = stations.get("a", {}).get("dcat:service", [{}])[0]
check(svc.get("@type") == "dcat:DataService" and svc.get("dcat:endpointURL", {}).get("@id", "").startswith("https://127.0.0.1:"),
      "station a offers a dcat:DataService at the node endpoint")
a = stations.get("a", {})
reg = [x for x in a.get("dcat:dataset", []) if x.get("dct:identifier") == "registry"]
check(reg and reg[0].get("dcat:contactPoint", {}).get("vcard:hasEmail", {}).get("@id") == "mailto:datadesk@hospital-a.example",
      "contact point from the catalog section")
check(reg and reg[0].get("dct:title") == "Expensive drugs registry", "title from the catalog section")
# the offline entry is what the node serves
for s in "ab":
    o = dict(off[s]); o.pop("@context", None)
    check(o == stations.get(s), "station %s: offline entry equals the published one" % s)

# not a single data value: every distinct cell, except published levels
published_levels = set()
for (_, _, dpath, ) in [(None, None, f[1]) for f in files.values()]:
    for c in json.load(open(dpath))["columns"]:
        published_levels.update(c.get("levels", []))
cells = set()
for path, _, _ in files.values():
    for r in csv.DictReader(open(path)):
        cells.update(v for v in r.values() if v != "")
cells -= published_levels
leaves, counts = [], []
def walk(v, key=None):
    if isinstance(v, dict):
        for k, x in v.items():
            leaves.append(("key", k)); walk(x, k)
    elif isinstance(v, list):
        for x in v: walk(x, key)
    elif isinstance(v, bool):
        leaves.append(("bool", str(v)))
    elif isinstance(v, (int, float)):
        (counts if key == "healthdcatap:numberOfRecords" else leaves).append((key, v))
    elif isinstance(v, str):
        leaves.append((key, v))
walk(fed)
check(all(k in ("healthdcatap:numberOfRecords",) for k, _ in counts), "no number but the record counts")
numbers = [v for k, v in leaves if isinstance(v, (int, float))]
check(not numbers, "no other numbers in the catalogue: %s" % numbers[:5])
tokens = set()
for k, v in leaves:
    if not isinstance(v, str):
        continue
    tokens.add(v)
    if k == "@id" or re.match(r"^(https?|urn|mailto):", v):
        continue  # identifiers are compared whole
    tokens.update(t for t in re.split(r"[\s,;()\[\]{}\"']+", v) if t)
leaked = sorted(c for c in cells if c in tokens)
check(not leaked, "no cell value appears in the catalogue: %s" % leaked[:10])
check("987654.321" not in json.dumps(fed) and "830001" not in json.dumps(fed), "sentinels absent from the raw text")
print("checked %d distinct cell values against %d strings" % (len(cells), len(tokens)))
for f in fails:
    print("FAIL: " + f)
sys.exit(1 if fails else 0)
PY
ok $? "the catalogue lists every dataset of every station, with rounded counts and no data value" "$dir/check.out"
sed 's/^/# /' "$dir/check.out" | head -3

# the node refuses a catalogue that is not an object, and serves it to anyone authenticated
if command -v curl >/dev/null; then
  code=$(curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/a/tls/cert.pem" \
    --key "$dir/a/tls/key.pem" -o "$dir/pub.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data '{"dictionaries": {}, "catalog": [1]}' \
    "$url/v1/stations/self")
  [ "$code" = 400 ] && grep -q "field catalog: not an object" "$dir/pub.out"
  ok $? "POST /v1/stations/self with a catalog that is not an object: 400" "$dir/pub.out"
  code=$(curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/a/tls/cert.pem" \
    --key "$dir/a/tls/key.pem" -o "$dir/cat.out" -w '%{http_code}' -X POST "$url/v1/catalog")
  [ "$code" = 405 ]
  ok $? "POST /v1/catalog: 405 (GET only)" "$dir/cat.out"
else
  n=$((n + 1)); echo "ok $n - # SKIP curl not installed"
  n=$((n + 1)); echo "ok $n - # SKIP curl not installed"
fi

# a bad catalog section is refused with the field named
sed 's/"access_rights": "restricted"/"access_rights": "open"/' "$dir/a/station.json" >"$dir/bad.json"
"$PHT" station catalog --config "$dir/bad.json" >/dev/null 2>"$dir/bad.err"
rc=$?
[ $rc -eq 2 ] && grep -q "catalog.access_rights" "$dir/bad.err"
ok $? "a bad catalog section: exit 2 naming catalog.access_rights" "$dir/bad.err"
sed 's/"datasets": {"registry": {"title"/"datasets": {"nosuch": {"title"/' "$dir/a/station.json" >"$dir/bad.json"
"$PHT" station catalog --config "$dir/bad.json" >/dev/null 2>"$dir/bad.err"
grep -q "catalog.datasets.nosuch: not a dataset of this station" "$dir/bad.err"
ok $? "a catalog entry for an unknown dataset is refused" "$dir/bad.err"

# ---- what analysts are told, end to end (pht_station_redact in the daemon)
mkdir -p "$dir/station-keys"
cp "$dir/b/keys/b.sign.pub" "$dir/station-keys/"
# run NAME LUA-BODY: a train whose station function is BODY, run at b on cohort
run_train() {
  cat >"$dir/$1.lua" <<EOF2
return { name = "$1", version = "1",
  station = function(data, params, round)
$2
  end,
  combine = function(results, params, round) return { done = true, result = results } end }
EOF2
  "$PHT" run "$dir/$1.lua" --node "$url" --cert "$dir/ana-tls/cert.pem" \
    --key "$dir/ana-tls/key.pem" --ca "$dir/ana-tls/ca.pem" \
    --sign-key "$dir/ana-keys/ana.sign.key" --station-keys "$dir/station-keys" \
    --stations b --datasets cohort --timeout 60s >"$dir/$1.out" 2>"$dir/$1.err"
}
# told NAME ANSWER SENTINEL: the analyst saw ANSWER (for anything that may
# depend on data values, the one generic answer), no sentinel and no row
# number; the station's log kept SENTINEL in a reason
generic="failed: the run produced no releasable result (details in the station's audit log)"
told() {
  cat "$dir/$1.out" "$dir/$1.err" >"$dir/$1.all"
  grep -qF "station b, round 1: $2" "$dir/$1.all" &&
  ! grep -q '987654\|830008\|row [0-9]\|/6\|line [0-9]' "$dir/$1.all" &&
  python3 - "$dir/b/audit.log" "$3" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)["entry"]
    if e.get("event") in ("failed", "withheld") and sys.argv[2] in e.get("reason", ""):
        sys.exit(0)
sys.exit(1)
PY
}
# (no row value reaches a train: the sentinel is the difference of two sums)
sentinel='    local w = data:column("weight"):sum() - data:where("weight", "<", 900000):column("weight"):sum()'
run_train err "$sentinel"'
    if w > 900000 then error(string.format("weight = %.3f in row 6", w)) end
    return { n = data:nrows() }'
told err "$generic" "987654.321"
ok $? "a train error quoting a value: the analyst is told the generic answer, the log keeps it" "$dir/err.all"
run_train small '    return { s = data:where("weight", ">", 900000):column("weight"):sum() }'
told small "$generic" "smaller than k"
ok $? "a subset smaller than k (the sentinel's row): told the generic answer" "$dir/small.all"
run_train path "$sentinel"'
    local t = {}
    if w > 900000 then t[string.format("%.3f", w) .. "/6"] = string.rep("x", 64) end
    return t'
told path "$generic" "987654.321"
ok $? "an output refused at a path naming a value and a row: told the generic answer" "$dir/path.all"
for t in err small path; do grep "station b, round 1: " "$dir/$t.all" | sed 's/^.*station b, round 1: //'; done | sort -u >"$dir/answers"
[ "$(wc -l <"$dir/answers")" -eq 1 ]
ok $? "the three signed, sealed answers the analyst decrypted are the same bytes" "$dir/answers"
run_train meta '    return { n = data:column("nosuch"):count() }'
cat "$dir/meta.out" "$dir/meta.err" >"$dir/meta.all"
grep -q "station b, round 1: failed: train error: .*no column 'nosuch' in dataset cohort (audit entry seq" "$dir/meta.all"
ok $? "a column not in the published dictionary, before any data: told precisely" "$dir/meta.all"

done_testing
