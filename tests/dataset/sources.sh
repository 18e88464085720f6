#!/bin/bash
# sources.sh — the same melanoma registry from a comma CSV, a Dutch-dialect
# CSV (';', decimal comma, Windows-1252, dd-mm-yyyy), SQLite, PostgreSQL and
# an OMOP CDM instance (through dataset/omop/melanoma_view.sql) must load
# into identical typed columns and give identical Cox coefficients; a bad
# cell in each source is named by row and column; queries cannot write.
# PostgreSQL runs in a temporary cluster this script starts (initdb, pg_ctl;
# as user nobody when run as root), on a unix socket only, and always stops.
# Usage: sources.sh PHT-REGISTRY-GEN. Env: PHT, PHT_SRC. TAP output.
set -u
gen=$1
here="$PHT_SRC/tests/dataset"
tmp=$(mktemp -d)
pgbin=
pgdata="$tmp/pg/data"
stop_pg() {
  if [ -n "$pgbin" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate -t 30 stop >/dev/null 2>&1
  fi
}
trap 'stop_pg; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
as_pg() {  # runs a PostgreSQL server command as an unprivileged user
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/# /' "$2" | tail -5; }
check() {  # check DESCRIPTION COMMAND... : ok when the command succeeds
  local d=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then ok "$d"; else not_ok "$d" "$tmp/err"; fi
}
fails_with() {  # fails_with DESCRIPTION TEXT COMMAND... : fails, stderr has TEXT
  local d=$1 t=$2; shift 2
  if "$@" >"$tmp/out" 2>"$tmp/err"; then not_ok "$d (it succeeded)"
  elif grep -qF -- "$t" "$tmp/err"; then ok "$d"
  else not_ok "$d (expected: $t)" "$tmp/err"; fi
}

"$gen" --out "$tmp/g" --hospitals 1 --patients 400 --seed 7 >/dev/null ||
  { echo "Bail out! pht-registry-gen failed"; exit 1; }
mkdir -p "$tmp/s" && cp "$tmp/g/hospital_01.csv" "$tmp/s/gen.csv" &&
  cp "$tmp/g/hospital_01.dict.json" "$tmp/s/gen.dict.json" &&
  python3 "$here/sources_fixtures.py" "$tmp/s" ||
  { echo "Bail out! sources_fixtures.py failed"; exit 1; }
s="$tmp/s"
cat >"$s/nl.json" <<'EOF'
{"csv": "nl.csv", "dict": "reg.dict.json",
 "dialect": {"delimiter": ";", "decimal": ",", "encoding": "windows-1252"},
 "formats": {"start_date": "%d-%m-%Y"}}
EOF
cat >"$s/sqlite.json" <<'EOF'
{"sqlite": "reg.sqlite", "dict": "reg.dict.json",
 "query": "SELECT * FROM registry ORDER BY patient_id"}
EOF

# --- PostgreSQL: a throwaway cluster ---------------------------------------
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin=$d; done
have_pg=0
if [ -z "$pgbin" ]; then
  echo "# PostgreSQL server programs not found (Debian: postgresql): PostgreSQL and OMOP skipped"
else
  mkdir -p "$tmp/pg/sock" && chmod 755 "$tmp" && chmod 755 "$tmp/pg"
  printf 'pg-secret-%s\n' "$RANDOM$RANDOM" >"$tmp/pg/pw"
  [ "$(id -u)" -eq 0 ] && chown -R nobody "$tmp/pg"
  port=$((20000 + RANDOM % 20000))
  if as_pg "$pgbin/initdb" -D "$pgdata" -U pht --auth=scram-sha-256 \
        --pwfile="$tmp/pg/pw" -E UTF8 --locale=C.UTF-8 >"$tmp/pg/initdb.log" 2>&1 &&
     as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/pg/log" -w -t 60 start \
        -o "-c listen_addresses='' -k $tmp/pg/sock -p $port -c fsync=off" \
        >/dev/null 2>&1; then
    have_pg=1
  else
    echo "Bail out! could not start PostgreSQL"
    cat "$tmp/pg/initdb.log" "$tmp/pg/log" 2>/dev/null | tail -5 | sed 's/^/# /'
    exit 1
  fi
  # the password only in a passfile (0600), never in the conninfo or a log
  printf '*:*:*:pht:%s\n' "$(cat "$tmp/pg/pw")" >"$s/pgpass"
  chmod 600 "$s/pgpass"
  conn="host=$tmp/pg/sock port=$port user=pht dbname=postgres"
  psql_() { PGPASSFILE="$s/pgpass" psql -X -q -v ON_ERROR_STOP=1 "$conn" "$@"; }
  psql_ -c "CREATE SCHEMA cdm" -f "$s/pg_registry.sql" >/dev/null ||
    { echo "Bail out! loading the registry into PostgreSQL failed"; exit 1; }
  PGOPTIONS="-c search_path=cdm" psql_ -f "$here/omop_cdm.sql" -f "$s/omop.sql" \
    -f "$PHT_SRC/dataset/omop/melanoma_view.sql" >/dev/null ||
    { echo "Bail out! building the OMOP CDM instance failed"; exit 1; }
  cat >"$s/pg.json" <<EOF
{"postgres": "$conn", "passfile": "pgpass", "dict": "reg.dict.json",
 "query": "SELECT * FROM registry ORDER BY patient_id"}
EOF
  cat >"$s/omop.json" <<EOF
{"postgres": "$conn", "passfile": "pgpass", "dict": "reg.dict.json",
 "query": "SELECT * FROM cdm.melanoma_registry ORDER BY patient_id"}
EOF
fi

# --- the same columns from every source -------------------------------------
sources="csv nl sqlite"
[ $have_pg = 1 ] && sources="$sources pg omop"
src_arg() { if [ "$1" = csv ]; then echo "$s/reg.csv"; else echo "$s/$1.json"; fi; }
ref=
for k in $sources; do
  if "$PHT" dataset check "$(src_arg $k)" >"$tmp/check.$k" 2>"$tmp/err"; then
    sum=$(sed -n 's/.*columns sha256 \([0-9a-f]*\)$/\1/p' "$tmp/check.$k")
    rows=$(sed -n 's/.*: \([0-9]*\) rows,.*/\1/p' "$tmp/check.$k")
    [ -z "$ref" ] && ref=$sum
    if [ "$sum" = "$ref" ] && [ "$rows" = 400 ]; then
      ok "$k: 400 rows, the same typed columns as the comma CSV"
    else
      not_ok "$k: the same typed columns as the comma CSV ($rows rows, $sum vs $ref)"
    fi
  else
    not_ok "$k: pht dataset check loads it" "$tmp/err"
  fi
done

# --- and the same Cox coefficients ------------------------------------------
cox='{"time":"pfs_days","event":"pfs_event","covariates":["age","sex","ldh_elevated","cost_eur"]}'
for k in $sources; do
  "$PHT" sim "$PHT_SRC/trains/std/cox.lua" --station h1="$(src_arg $k)" \
    --params "$cox" --k 5 >"$tmp/cox.$k" 2>"$tmp/cox.$k.err" ||
    not_ok "$k: cox.lua runs" "$tmp/cox.$k.err"
done
if python3 - "$tmp" $sources <<'PY'
import json, sys
tmp, srcs = sys.argv[1], sys.argv[2:]
res = {k: json.load(open("%s/cox.%s" % (tmp, k))) for k in srcs}
ref = res["csv"]["coefficients"]
assert len(ref) == 4, ref
for k, r in res.items():
    assert r["coefficients"] == ref, (k, r["coefficients"], ref)
    assert r["converged"] is True, k
print("# coefficients:", ", ".join("%s %.6g" % (c["name"], c["coef"]) for c in ref))
PY
then ok "cox.lua: identical coefficients from ${sources// /, }"
else not_ok "cox.lua: identical coefficients from ${sources// /, }"; fi

# --- a bad cell is named by row and column in every source ------------------
python3 - "$s" <<'PY'
import sys, sqlite3, shutil
s = sys.argv[1]
lines = open(s + "/reg.csv", encoding="utf-8").read().split("\n")
f = lines[4].split(","); f[1] = "7x"; lines[4] = ",".join(f)
open(s + "/bad.csv", "w", encoding="utf-8").write("\n".join(lines))
raw = open(s + "/nl.csv", "rb").read().split(b"\r\n")
f = raw[6].split(b";"); f[9] = b"31-02-2020"; raw[6] = b";".join(f)
open(s + "/nl_bad.csv", "wb").write(b"\r\n".join(raw))
raw = open(s + "/nl.csv", "rb").read().split(b"\r\n")
f = raw[3].split(b";"); f[16] = b"1.234,5"; raw[3] = b";".join(f)
open(s + "/nl_badnum.csv", "wb").write(b"\r\n".join(raw))
raw = open(s + "/nl.csv", "rb").read().split(b"\r\n")
raw[8] = raw[8].replace(b"male", b"m\x81le", 1)
open(s + "/nl_badenc.csv", "wb").write(b"\r\n".join(raw))
shutil.copy(s + "/reg.sqlite", s + "/bad.sqlite")
db = sqlite3.connect(s + "/bad.sqlite")
db.execute("UPDATE registry SET line = 'second' WHERE rowid = 3")
db.commit()
PY
cp "$s/reg.dict.json" "$s/bad.dict.json"
fails_with "csv: a bad cell names line and column" \
  'bad.csv:5:age: "7x" is not an integer (1 bad cell in all)' \
  "$PHT" dataset check "$s/bad.csv"
sed 's/"nl.csv"/"nl_bad.csv"/' "$s/nl.json" >"$s/nl_bad.json"
fails_with "Dutch csv: a date not in the column's format names line and column" \
  'nl_bad.csv:7:start_date: "31-02-2020" is not a valid date (%d-%m-%Y)' \
  "$PHT" dataset check "$s/nl_bad.json"
sed 's/"nl.csv"/"nl_badnum.csv"/' "$s/nl.json" >"$s/nl_badnum.json"
fails_with "Dutch csv: a point in a decimal-comma number is refused" \
  'nl_badnum.csv:4:cost_eur: "1.234,5" is not a number' \
  "$PHT" dataset check "$s/nl_badnum.json"
sed 's/"nl.csv"/"nl_badenc.csv"/' "$s/nl.json" >"$s/nl_badenc.json"
fails_with "Dutch csv: a byte Windows-1252 does not define names its line" \
  'nl_badenc.csv:9: byte 0x81 is not a character in windows-1252' \
  "$PHT" dataset check "$s/nl_badenc.json"
fails_with "Dutch csv read as the default dialect: the header is refused" \
  'header column 1' "$PHT" dataset check "$s/nl.csv" --dict "$s/reg.dict.json"
sed 's/reg.sqlite/bad.sqlite/' "$s/sqlite.json" >"$s/sqlite_bad.json"
fails_with "sqlite: a bad cell names the result row and column" \
  ':row 3:line: "second" is not an integer' "$PHT" dataset check "$s/sqlite_bad.json"
cat >"$s/sqlite_write.json" <<'EOF'
{"sqlite": "reg.sqlite", "dict": "reg.dict.json", "query": "DELETE FROM registry RETURNING *"}
EOF
fails_with "sqlite: a query that writes is refused" 'not read-only' \
  "$PHT" dataset check "$s/sqlite_write.json"
cat >"$s/sqlite_two.json" <<'EOF'
{"sqlite": "reg.sqlite", "dict": "reg.dict.json", "query": "SELECT * FROM registry; DELETE FROM registry"}
EOF
fails_with "sqlite: a second statement is refused" 'more than one statement' \
  "$PHT" dataset check "$s/sqlite_two.json"
n_after=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from registry').fetchone()[0])" "$s/reg.sqlite")
[ "$n_after" = 400 ] && ok "sqlite: the file still holds its 400 rows" ||
  not_ok "sqlite: the file still holds its 400 rows ($n_after)"

if [ $have_pg = 1 ]; then
  cat >"$s/pg_bad.json" <<EOF
{"postgres": "$conn", "passfile": "pgpass", "dict": "reg.dict.json",
 "query": "SELECT patient_id, CASE WHEN patient_id = 10000006 THEN 'IV-M9' ELSE stage END AS stage, age, sex, ecog, ldh_elevated, braf, treatment, line, start_date, best_response, ae_grade3, pfs_days, pfs_event, os_days, os_event, cost_eur FROM registry ORDER BY patient_id"}
EOF
  fails_with "postgres: a bad cell names the result row and column" \
    ':row 6:stage: "IV-M9" is not one of the levels' "$PHT" dataset check "$s/pg_bad.json"
  cat >"$s/pg_write.json" <<EOF
{"postgres": "$conn", "passfile": "pgpass", "dict": "reg.dict.json",
 "query": "DELETE FROM registry RETURNING *"}
EOF
  fails_with "postgres: the query runs in a read-only transaction" \
    'read-only transaction' "$PHT" dataset check "$s/pg_write.json"
  cat >"$s/pg_two.json" <<EOF
{"postgres": "$conn", "passfile": "pgpass", "dict": "reg.dict.json",
 "query": "SELECT * FROM registry; COMMIT; DELETE FROM registry"}
EOF
  fails_with "postgres: one statement only" 'cannot insert multiple commands' \
    "$PHT" dataset check "$s/pg_two.json"
  cnt=$(psql_ -At -c "SELECT count(*) FROM registry")
  [ "$cnt" = 400 ] && ok "postgres: the table still holds its 400 rows" ||
    not_ok "postgres: the table still holds its 400 rows ($cnt)"
  cat >"$s/pg_pw.json" <<EOF
{"postgres": "$conn password=hunter2", "dict": "reg.dict.json", "query": "SELECT 1"}
EOF
  fails_with "postgres: a password in the conninfo is refused" \
    'holds a password: give a passfile' "$PHT" dataset check "$s/pg_pw.json"
  if grep -q hunter2 "$tmp/err"; then not_ok "the refusal does not repeat the password"
  else ok "the refusal does not repeat the password"; fi
  sed 's/"passfile": "pgpass", //' "$s/pg.json" >"$s/pg_nopass.json"
  fails_with "postgres: without the passfile the server refuses" 'cannot connect' \
    env -u PGPASSFILE -u PGPASSWORD HOME="$tmp" "$PHT" dataset check "$s/pg_nopass.json"
  # OMOP: an agent the view does not know gives a treatment that is no level
  psql_ -c "INSERT INTO cdm.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id, drug_source_value) VALUES (999999, 10000002, 0, '2017-01-23', '2017-01-23', 32817, 'relatlimab')" >/dev/null
  fails_with "omop: a bad cell names the result row and column" \
    ':row 2:treatment: "nivolumab+relatlimab" is not one of the levels' \
    "$PHT" dataset check "$s/omop.json"
fi

# --- a station config names the same sources --------------------------------
cat >"$s/station.json" <<'EOF'
{"station": "st-a", "audit_log": "audit.log", "key": "st-a.sign.key",
 "seen_ids": "seen", "signers": [],
 "datasets": {
   "nl": {"csv": "nl.csv", "dict": "reg.dict.json",
          "dialect": {"delimiter": ";", "decimal": ",", "encoding": "windows-1252"},
          "formats": {"start_date": "%d-%m-%Y"}},
   "lite": {"sqlite": "reg.sqlite", "dict": "reg.dict.json",
            "query": "SELECT * FROM registry ORDER BY patient_id"}}}
EOF
for k in nl lite; do
  if "$PHT" dataset check --config "$s/station.json" --dataset $k >"$tmp/out" 2>"$tmp/err" &&
     grep -q "columns sha256 $ref\$" "$tmp/out"; then
    ok "station config: dataset $k loads the same columns"
  else not_ok "station config: dataset $k loads the same columns" "$tmp/err"; fi
done

# --- infer drafts a dictionary that loads the data ---------------------------
if "$PHT" dataset infer "$s/nl.csv" --delimiter ';' --decimal , \
     --encoding windows-1252 --format start_date=%d-%m-%Y >"$s/inferred.dict.json" 2>"$tmp/err" &&
   python3 - "$s/inferred.dict.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
t = {c["name"]: c for c in d["columns"]}
assert t["patient_id"]["type"] == "integer" and t["patient_id"]["role"] == "identifier"
assert t["cost_eur"]["type"] == "number" and t["start_date"]["type"] == "date"
assert t["os_event"]["type"] == "boolean" and t["age"]["type"] == "integer"
assert t["best_response"]["type"] == "category"
assert "NE (niet evalueerbaar, \u00e9)" in t["best_response"]["levels"]
assert t["sex"]["levels"] == ["female", "male"]
assert "missing" not in t["ecog"]
PY
then ok "infer: types, levels (UTF-8 from Windows-1252), identifier from the Dutch CSV"
else not_ok "infer: types, levels (UTF-8 from Windows-1252), identifier from the Dutch CSV" "$tmp/err"; fi
check "infer: the draft loads the Dutch CSV" "$PHT" dataset check "$s/nl.csv" \
  --dict "$s/inferred.dict.json" --delimiter ';' --decimal , \
  --encoding windows-1252 --format start_date=%d-%m-%Y
check "infer: a draft from SQLite" "$PHT" dataset infer "$s/sqlite.json"

echo "1..$n"
[ $failed -eq 0 ]
