#!/usr/bin/env python3
"""sources_fixtures.py — the same melanoma registry in every source kind, for tests/dataset/sources.sh.

usage: sources_fixtures.py DIR
  reads DIR/gen.csv and DIR/gen.dict.json (pht-registry-gen) and writes
  DIR/reg.csv, DIR/reg.dict.json  the registry with best_response level NE
                                  relabelled "NE (niet evalueerbaar, é)": a
                                  non-ASCII label, in UTF-8
  DIR/nl.csv                      the same as a Dutch spreadsheet writes it:
                                  ';' separators, decimal commas, dd-mm-yyyy
                                  dates, Windows-1252
  DIR/reg.sqlite                  table registry, typed columns, NA as NULL
  DIR/pg_registry.sql             CREATE TABLE registry + INSERTs (PostgreSQL)
  DIR/omop.sql                    the registry as OMOP CDM rows (INSERTs into
                                  the tables of tests/dataset/omop_cdm.sql),
                                  the ETL that dataset/omop/melanoma_view.sql
                                  undoes
"""
import csv
import datetime
import json
import sqlite3
import sys

NE = "NE (niet evalueerbaar, \u00e9)"

TYPES = {"integer": ("INTEGER", "integer"), "number": ("REAL", "numeric(14,2)"),
         "category": ("TEXT", "text"), "date": ("TEXT", "date"),
         "boolean": ("INTEGER", "boolean")}


def q(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def main():
    d = sys.argv[1]
    rows = list(csv.DictReader(open(d + "/gen.csv", newline="", encoding="utf-8")))
    dic = json.load(open(d + "/gen.dict.json", encoding="utf-8"))
    for c in dic["columns"]:
        if c["name"] == "best_response":
            c["levels"] = [NE if x == "NE" else x for x in c["levels"]]
    for r in rows:
        if r["best_response"] == "NE":
            r["best_response"] = NE
    cols = [c["name"] for c in dic["columns"]]
    types = {c["name"]: c["type"] for c in dic["columns"]}
    json.dump(dic, open(d + "/reg.dict.json", "w", encoding="utf-8"), indent=2,
              ensure_ascii=False)
    with open(d + "/reg.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r[c] for c in cols])

    # Dutch spreadsheet export
    with open(d + "/nl.csv", "w", newline="", encoding="cp1252") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow(cols)
        for r in rows:
            out = []
            for c in cols:
                v = r[c]
                if v != "NA" and types[c] == "number":
                    v = v.replace(".", ",")
                elif v != "NA" and types[c] == "date":
                    v = datetime.date.fromisoformat(v).strftime("%d-%m-%Y")
                out.append(v)
            w.writerow(out)

    def val(r, c):
        return None if r[c] == "NA" else r[c]

    # SQLite: typed columns, NA as NULL
    db = sqlite3.connect(d + "/reg.sqlite")
    db.execute("CREATE TABLE registry (%s)" % ", ".join(
        "%s %s" % (c, TYPES[types[c]][0]) for c in cols))
    conv = {"integer": int, "number": float, "boolean": int}
    db.executemany("INSERT INTO registry VALUES (%s)" % ",".join("?" * len(cols)),
                   [[None if val(r, c) is None else conv.get(types[c], str)(r[c])
                     for c in cols] for r in rows])
    db.commit()
    db.close()

    # PostgreSQL: typed columns, NA as NULL
    with open(d + "/pg_registry.sql", "w", encoding="utf-8") as f:
        f.write("CREATE TABLE registry (%s);\n" % ", ".join(
            "%s %s" % (c, TYPES[types[c]][1]) for c in cols))
        for r in rows:
            f.write("INSERT INTO registry VALUES (%s);\n" %
                    ", ".join(q(val(r, c)) for c in cols))

    omop(d, rows)


def omop(d, rows):
    """The registry as OMOP CDM rows (conventions: melanoma_view.sql)."""
    out = open(d + "/omop.sql", "w", encoding="utf-8")
    ids = {"de": 0, "co": 0, "m": 0, "c": 0}

    def nid(k):
        ids[k] += 1
        return ids[k]

    def ins(table, **kv):
        out.write("INSERT INTO %s (%s) VALUES (%s);\n" % (
            table, ", ".join(kv), ", ".join(q(v) for v in kv.values())))

    def meas(pid, day, src, num=None, text=None, high=None):
        ins("measurement", measurement_id=nid("m"), person_id=pid,
            measurement_concept_id=0, measurement_date=day,
            measurement_type_concept_id=32817, value_as_number=num,
            range_high=high, measurement_source_value=src,
            value_source_value=text)

    agents = {"chemotherapy": ["dacarbazine"]}
    for r in rows:
        pid = int(r["patient_id"])
        start = datetime.date.fromisoformat(r["start_date"])
        age = int(r["age"])
        try:
            birth = start.replace(year=start.year - age)
        except ValueError:  # 29 February in a year without one
            birth = start.replace(year=start.year - age, day=28)
        g = {"female": 8532, "male": 8507}[r["sex"]]
        ins("person", person_id=pid, gender_concept_id=g, year_of_birth=birth.year,
            month_of_birth=birth.month, day_of_birth=birth.day,
            race_concept_id=0, ethnicity_concept_id=0)
        os_end = start + datetime.timedelta(days=int(r["os_days"]))
        ins("observation_period", observation_period_id=pid, person_id=pid,
            observation_period_start_date=start, observation_period_end_date=os_end,
            period_type_concept_id=32817)
        if r["os_event"] == "1":
            ins("death", person_id=pid, death_date=os_end)
        pfs_end = start + datetime.timedelta(days=int(r["pfs_days"]))
        by_death = r["os_event"] == "1" and r["pfs_days"] == r["os_days"]
        if r["pfs_event"] == "1" and not by_death:
            ins("condition_occurrence", condition_occurrence_id=nid("co"),
                person_id=pid, condition_concept_id=0, condition_start_date=pfs_end,
                condition_type_concept_id=32817, condition_source_value="PROGRESSION")
        if r["ae_grade3"] == "1":
            ins("condition_occurrence", condition_occurrence_id=nid("co"),
                person_id=pid, condition_concept_id=0, condition_start_date=start,
                condition_type_concept_id=32817, condition_source_value="AE_GRADE3")
        ins("condition_occurrence", condition_occurrence_id=nid("co"), person_id=pid,
            condition_concept_id=0, condition_start_date=start,
            condition_type_concept_id=32817, condition_source_value="C43.9")
        first = True
        for a in agents.get(r["treatment"], r["treatment"].split("+")):
            de = nid("de")
            ins("drug_exposure", drug_exposure_id=de, person_id=pid,
                drug_concept_id=0, drug_exposure_start_date=start,
                drug_exposure_end_date=start, drug_type_concept_id=32817,
                drug_source_value=a)
            if first:
                ins("cost", cost_id=nid("c"), cost_event_id=de, cost_domain_id="Drug",
                    cost_type_concept_id=32817, currency_concept_id=44818568,
                    total_cost=r["cost_eur"])
                first = False
        if r["ecog"] != "NA":
            meas(pid, start, "ECOG", num=r["ecog"])
        if r["ldh_elevated"] != "NA":
            meas(pid, start, "LDH", num=375 if r["ldh_elevated"] == "1" else 180,
                 high=250)
        if r["braf"] != "NA":
            meas(pid, start, "BRAF", text=r["braf"])
        meas(pid, start, "AJCC_STAGE", text=r["stage"])
        meas(pid, start, "LINE_OF_THERAPY", num=r["line"])
        meas(pid, start, "RECIST_BEST_RESPONSE", text=r["best_response"])
    out.close()


if __name__ == "__main__":
    main()
