#!/usr/bin/env bash
# permits.sh — data permits, revocation lists, halt orders and the operator's
# halt at one station through the pht CLI (pht permit, pht train sign
# --permit-file, pht station exec|orders|halt|resume): every refusal is
# logged with its reason and the permit id, a good permit releases. Prints TAP.
set -u
PHT=${PHT:?PHT must name the pht binary}
SRC=${PHT_SRC:?PHT_SRC must name the source tree}
DATA=$SRC/tests/data/station
T=$(mktemp -d "${TMPDIR:-/tmp}/pht-gov-XXXXXX")
BG=
. "$(dirname "$0")/../lib.sh"
at_exit '[ -n "$BG" ] && kill "$BG" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"'

# field $1 of the last audit entry whose event is $2 (default: the last entry)
entry_field() {
  python3 - "$T/audit.log" "$1" "${2:-}" <<'PY'
import json, sys
path, field, event = sys.argv[1], sys.argv[2], sys.argv[3]
last = None
for line in open(path):
    e = json.loads(line)["entry"]
    if not event or e.get("event") == event:
        last = e
v = last.get(field, "") if last else ""
print(v if isinstance(v, str) else json.dumps(v))
PY
}
count_events() { python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["entry"].get("event") == sys.argv[2]))' "$T/audit.log" "$1"; }
exec_train() { "$PHT" station exec --config "$T/station.json" "$1" >"$T/out" 2>"$T/err"; }
sign() { local out=$1; shift; "$PHT" train sign "$@" --out "$out" >/dev/null 2>"$T/sign.err"; }
issue() { "$PHT" permit issue --key "$T/keys/authority.sign.key" "$@" >"$T/issue.out" 2>"$T/issue.err"; }

for who in st-a analyst other authority rogue reviewer; do
  "$PHT" keygen --name "$who" --out "$T/keys" >/dev/null || { echo "Bail out! keygen $who"; exit 1; }
done
cp "$DATA/registry.csv" "$DATA/registry.dict.json" "$T/"
cat >"$T/station.json" <<JSON
{
  "station": "st-a",
  "datasets": {"registry": {"csv": "registry.csv"}},
  "signers": [
    {"name": "analyst", "key": "keys/analyst.sign.pub", "mode": "auto"},
    {"name": "other", "key": "keys/other.sign.pub", "mode": "auto"}
  ],
  "policy": {"k": 5, "limits": {"instructions": 1000000000000, "memory_mb": 64, "time_seconds": 60}},
  "audit_log": "audit.log",
  "key": "keys/st-a.sign.key",
  "seen_ids": "seen-ids",
  "permit_authorities": ["keys/authority.sign.pub"]
}
JSON
AK=$T/keys/analyst.sign.key
MEAN=$DATA/mean.lua
MEAN_SHA=$(sha256sum "$MEAN" | cut -d' ' -f1)
BOOM_SHA=$(sha256sum "$DATA/boom.lua" | cut -d' ' -f1)
# fp KEY.sign.pub: the key's fingerprint (SHA-256 of the raw public key), computed here
fp() {
  python3 - "$1" <<'PY'
import base64, hashlib, sys
der = base64.b64decode("".join(l for l in open(sys.argv[1]) if not l.startswith("-----")))
print(hashlib.sha256(der[-32:]).hexdigest())
PY
}
ANALYST_FP=$(fp "$T/keys/analyst.sign.pub")
# the usual permit: analyst, st-a, registry columns age and sex, mean.lua
good_permit() {
  local id=$1; shift
  issue --id "$id" --analyst "analyst=$ANALYST_FP" --station st-a --station st-b \
    --dataset registry --columns registry:age,sex --purpose "test: mean age by sex" \
    --train "$MEAN" --from 2020-01-01 --until 30d --out "$T/$id.permit" "$@"
}

# ---- issuing, showing, verifying
good_permit P1
ok $? "pht permit issue"
[ $? -eq 0 ] || diag "$T/issue.err"
"$PHT" permit show "$T/P1.permit" >"$T/show" 2>&1
ok $? "pht permit show"
grep -q "^permit: P1$" "$T/show" && grep -q "^data user: analyst $ANALYST_FP$" "$T/show" &&
  grep -q "^dataset registry, columns: age, sex$" "$T/show" &&
  grep -q "^train code sha256: $MEAN_SHA$" "$T/show" && grep -q "signature: not checked" "$T/show"
ok $? "show prints the id, the data user's fingerprint, the columns and the code hash"
"$PHT" permit verify "$T/P1.permit" --authority "$T/keys/authority.sign.pub" >"$T/v" 2>&1
ok $? "verify with the authority's key"
grep -q "signature: good; valid now" "$T/v"
ok $? "verify says the signature is good and the permit valid now"
"$PHT" permit verify "$T/P1.permit" --authority "$T/keys/rogue.sign.pub" >"$T/v" 2>&1
[ $? -eq 1 ] && grep -q "unknown signer" "$T/v"
ok $? "verify against another key: unknown signer, exit 1"
"$PHT" permit issue --key "$T/keys/authority.sign.key" --id P9 --analyst "analyst=$ANALYST_FP" \
  --station st-a --dataset registry --purpose x --train "$MEAN" --from now --until 1d \
  --out "$T/P9.permit" >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q "no --columns registry" "$T/e"
ok $? "issue refuses a dataset without its columns"

# ---- no permit
sign "$T/np.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a
exec_train "$T/np.signed"
[ $? -eq 1 ] && grep -q "no permit: station st-a runs trains only under a data permit" "$T/err"
ok $? "a train without a permit is refused"
[ "$(entry_field event)" = rejected ] && [ "$(entry_field error)" = denied ]
ok $? "  logged as rejected (denied)"

# ---- a good permit releases; every entry carries the permit id
sign "$T/ok.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P1.permit"
ok $? "train sign --permit-file"
exec_train "$T/ok.signed"; rc=$?
ok $rc "a train under a good permit is released"
[ $rc -eq 0 ] || diag "$T/err"
TR=$(entry_field train released)
python3 - "$T/audit.log" "$TR" <<'PY'
import json, sys
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
mine = [e for e in ev if e.get("train") == sys.argv[2]]
sys.exit(0 if [e["event"] for e in mine] == ["received", "executed", "released"]
         and all(e.get("permit") == "P1" for e in mine) else 1)
PY
ok $? "  received, executed and released all carry permit P1"
[ "$(count_events permit)" = 1 ] && [ "$(entry_field permit permit)" = P1 ]
ok $? "  the new permit was logged once (event permit)"
[ -f "$T/audit.log.gov/permits/P1.env" ] && cmp -s "$T/audit.log.gov/permits/P1.env" "$T/P1.permit"
ok $? "  the station stored the permit envelope byte for byte"

# the stored permit serves a train that only names it
sign "$T/byid.signed" "$MEAN" --key "$AK" --params '{"column":"age","sex":"F"}' --datasets registry \
  --stations st-a --permit P1
exec_train "$T/byid.signed"
ok $? "a train naming a stored permit by id runs"
sign "$T/unk.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit P-unknown
exec_train "$T/unk.signed"
[ $? -eq 1 ] && grep -q "permit P-unknown is not known at this station" "$T/err" &&
  [ "$(entry_field permit)" = P-unknown ]
ok $? "a train naming an unknown permit is refused and logged with that permit id"

# ---- code reviewers: a permit that allows any train its reviewer approved
{ cat "$MEAN"; echo "-- reviewed copy"; } >"$T/mean2.lua"
MEAN2_SHA=$(sha256sum "$T/mean2.lua" | cut -d' ' -f1)
issue --id P-review --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age,sex --purpose "reviewed trains" \
  --reviewer "rita=$T/keys/reviewer.sign.pub" --from 2020-01-01 --until 30d --out "$T/P-review.permit"
ok $? "pht permit issue --reviewer without any train hash"
[ $? -eq 0 ] || diag "$T/issue.err"
REV_FP=$(fp "$T/keys/reviewer.sign.pub")
"$PHT" permit show "$T/P-review.permit" >"$T/show-rev" 2>&1 &&
  grep -q "^code reviewer: rita $REV_FP " "$T/show-rev" && ! grep -q "^train code sha256" "$T/show-rev"
ok $? "  show names the reviewer by fingerprint and lists no hashes"
"$PHT" permit approve --key "$T/keys/reviewer.sign.key" --train "$T/mean2.lua" \
  --note "read line by line" --out "$T/mean2.approval" >"$T/appr.out" 2>&1
ok $? "pht permit approve"
"$PHT" permit verify "$T/mean2.approval" --authority "$T/keys/reviewer.sign.pub" >"$T/appr.v" 2>&1 &&
  grep -q "^train code sha256: $MEAN2_SHA$" "$T/appr.v" && grep -q "^note: read line by line$" "$T/appr.v" &&
  grep -q "^signature: good$" "$T/appr.v"
ok $? "  verify shows the approved hash, the note and a good signature"
"$PHT" permit verify "$T/mean2.approval" --authority "$T/keys/authority.sign.pub" >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "  verify against another key fails"
sign "$T/rv-ok.signed" "$T/mean2.lua" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P-review.permit" --approval "$T/mean2.approval"
ok $? "train sign --approval"
exec_train "$T/rv-ok.signed"
ok $? "a train its reviewer approved runs under the reviewer's permit"
[ $? -eq 0 ] || diag "$T/err"
[ "$(entry_field permit released)" = P-review ]
ok $? "  released under permit P-review"
sign "$T/rv-none.signed" "$T/mean2.lua" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P-review.permit"
exec_train "$T/rv-none.signed"
[ $? -eq 1 ] && grep -qF "permit P-review: does not allow train code $MEAN2_SHA (and the train carries no code approval)" "$T/err"
ok $? "the same train without the approval is refused with the reason"
"$PHT" permit approve --key "$T/keys/rogue.sign.key" --train "$T/mean2.lua" --out "$T/rogue.approval" >/dev/null 2>&1
sign "$T/rv-rogue.signed" "$T/mean2.lua" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P-review.permit" --approval "$T/rogue.approval"
exec_train "$T/rv-rogue.signed"
[ $? -eq 1 ] && grep -qF "not signed by one of the permit's reviewers" "$T/err" &&
  grep -qF "not signed by one of the permit's reviewers" <<<"$(entry_field reason)"
ok $? "an approval signed by someone else is refused and logged"
"$PHT" train sign "$MEAN" --key "$AK" --datasets registry --stations st-a \
  --permit-file "$T/P-review.permit" --approval "$T/mean2.approval" --out "$T/x.signed" >/dev/null 2>"$T/sign.err"
[ $? -eq 2 ] && grep -qF "does not list this train's code (sha256 $MEAN_SHA)" "$T/sign.err"
ok $? "train sign refuses an approval that does not list the train's code (exit 2)"
"$PHT" train sign "$T/mean2.lua" --key "$AK" --approval "$T/mean2.approval" --out "$T/x.signed" >/dev/null 2>"$T/sign.err"
[ $? -eq 2 ] && grep -qF -- "--approval needs --permit or --permit-file" "$T/sign.err"
ok $? "train sign --approval without a permit: usage error"
"$PHT" permit post "$T/mean2.approval" --node https://127.0.0.1:1 --cert x --tls-key x --ca x >/dev/null 2>"$T/post.err"
[ $? -eq 2 ] && grep -qF "is a code approval" "$T/post.err"
ok $? "permit post refuses a code approval (it travels with the train)"

# ---- permits that do not cover the train; each refused with its reason
refused() { # $1 permit file, $2 expected reason text, $3 what, [$4 params]
  local id; id=$(basename "$1" .permit)
  sign "$T/$id.signed" "$MEAN" --key "${KEY:-$AK}" --params "${4:-{\"column\":\"age\"}}" --datasets registry \
    --stations st-a --permit-file "$1"
  exec_train "$T/$id.signed"; local rc=$?
  [ $rc -eq 1 ] && grep -qF "$2" "$T/err" && [ "$(entry_field permit)" = "$id" ] &&
    grep -qF "$2" <<<"$(entry_field reason)"
  ok $? "$3"
  [ $? -eq 0 ] || { diag "$T/err"; echo "# rc $rc, last entry: $(tail -n1 "$T/audit.log")"; }
}
issue --id P-expired --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 2020-02-01 --out "$T/P-expired.permit"
refused "$T/P-expired.permit" "permit P-expired: expired at 2020-02-01T00:00:00Z" "expired permit refused"
[ "$(entry_field error)" = expired ]
ok $? "  with the error name expired"
issue --id P-future --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 30d --until 60d --out "$T/P-future.permit"
refused "$T/P-future.permit" "permit P-future: not valid before" "not-yet-valid permit refused"
issue --id P-other --analyst "other=$T/keys/other.sign.pub" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d --out "$T/P-other.permit"
refused "$T/P-other.permit" "permit P-other: signer $ANALYST_FP is not among its data users" \
  "a permit for another analyst refused"
issue --id P-stb --analyst "analyst=$ANALYST_FP" --station st-b --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d --out "$T/P-stb.permit"
refused "$T/P-stb.permit" "permit P-stb: does not name station st-a" "a permit for another station refused"
issue --id P-cohort --analyst "analyst=$ANALYST_FP" --station st-a --dataset cohort \
  --columns cohort:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d --out "$T/P-cohort.permit"
refused "$T/P-cohort.permit" "permit P-cohort: does not name dataset registry" "a permit for another dataset refused"
issue --id P-code --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train-sha256 "$BOOM_SHA" --from 2020-01-01 --until 30d --out "$T/P-code.permit"
refused "$T/P-code.permit" "permit P-code: does not allow train code $MEAN_SHA" "a permit for other train code refused"
issue --id P-rounds --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d --max-rounds 1 --out "$T/P-rounds.permit"
sign "$T/r2.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --round 2 --permit-file "$T/P-rounds.permit"
exec_train "$T/r2.signed"
[ $? -eq 1 ] && grep -q "permit P-rounds: allows rounds up to 1, this train is round 2" "$T/err"
ok $? "round 2 under a permit capped at 1 round refused"
"$PHT" keygen --name rogue2 --out "$T/keys" >/dev/null
"$PHT" permit issue --key "$T/keys/rogue.sign.key" --id P-rogue --analyst "analyst=$ANALYST_FP" --station st-a \
  --dataset registry --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d \
  --out "$T/P-rogue.permit" >/dev/null
refused "$T/P-rogue.permit" "permit authority: envelope: unknown signer" "a permit signed by an untrusted authority refused"
[ ! -f "$T/audit.log.gov/permits/P-rogue.env" ]
ok $? "  and not stored"

# a column outside the permit: the train runs, nothing is released
issue --id P-cols --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d --out "$T/P-cols.permit"
sign "$T/cols.signed" "$MEAN" --key "$AK" --params '{"column":"bmi"}' --datasets registry \
  --stations st-a --permit-file "$T/P-cols.permit"
exec_train "$T/cols.signed"
[ $? -eq 1 ] && grep -q "permit P-cols: the train read column bmi of dataset registry, which the permit does not allow" "$T/err" &&
  [ "$(entry_field event)" = withheld ] && [ "$(entry_field permit)" = P-cols ] && [ ! -s "$T/out" ]
ok $? "a train reading a column outside its permit is withheld, nothing on stdout"
TC=$(entry_field train withheld)
python3 -c 'import json,sys; sys.exit(any(json.loads(l)["entry"].get("event") == "released" and json.loads(l)["entry"].get("train") == sys.argv[2] for l in open(sys.argv[1])))' "$T/audit.log" "$TC"
ok $? "  and no released entry exists for it"

# ---- caps: runs
issue --id P-once --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$MEAN" --from 2020-01-01 --until 30d --max-runs 1 --out "$T/P-once.permit"
sign "$T/once1.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P-once.permit"
exec_train "$T/once1.signed"
ok $? "first run under a one-run permit released"
sign "$T/once2.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P-once.permit"
exec_train "$T/once2.signed"
[ $? -eq 1 ] && grep -q "permit P-once: all 1 runs are used at this station" "$T/err" &&
  [ "$(entry_field permit)" = P-once ]
ok $? "second run refused: runs exhausted (counted durably across processes)"

# ---- revocation
good_permit P-rev
sign "$T/rev1.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit-file "$T/P-rev.permit"
exec_train "$T/rev1.signed"
ok $? "P-rev works before it is revoked"
"$PHT" permit revoke --key "$T/keys/authority.sign.key" --seq 2 --id P-rev --id P-other --out "$T/rev2" >/dev/null
ok $? "pht permit revoke"
"$PHT" permit show "$T/rev2" | grep -q "^revoked: P-other, P-rev$"
ok $? "show lists the revoked ids"
"$PHT" station orders --config "$T/station.json" "$T/rev2" >"$T/o" 2>&1
ok $? "the station takes the revocation list"
[ "$(entry_field event)" = revocations ] && [ "$(entry_field list_seq)" = 2 ] &&
  [ "$(entry_field revoked)" = '["P-other", "P-rev"]' ]
ok $? "  logged (event revocations, list_seq 2, the revoked ids)"
sign "$T/rev2.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit P-rev
exec_train "$T/rev2.signed"
[ $? -eq 1 ] && grep -q "permit P-rev was revoked (revocation list seq 2)" "$T/err" && [ "$(entry_field permit)" = P-rev ]
ok $? "a revoked permit is refused"
"$PHT" permit revoke --key "$T/keys/authority.sign.key" --seq 1 --out "$T/rev1" >/dev/null
"$PHT" station orders --config "$T/station.json" "$T/rev1" >"$T/o" 2>&1
[ $? -eq 1 ] && grep -q "revocation list seq 1 is older than the stored list (seq 2)" "$T/o"
ok $? "an older revocation list is refused"
exec_train "$T/rev2.signed"
grep -q "was seen before" "$T/err"
ok $? "  (replaying the refused train is a replay)"
sign "$T/rev3.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry \
  --stations st-a --permit P-rev
exec_train "$T/rev3.signed"
[ $? -eq 1 ] && grep -q "was revoked (revocation list seq 2)" "$T/err"
ok $? "  and the permit stays revoked"
"$PHT" permit revoke --key "$T/keys/rogue.sign.key" --seq 9 --out "$T/rev9" >/dev/null
"$PHT" station orders --config "$T/station.json" "$T/rev9" >"$T/o" 2>&1
[ $? -eq 1 ] && grep -q "unknown signer" "$T/o"
ok $? "a revocation list of an untrusted key is refused"

# ---- authority halt orders
"$PHT" permit halt --key "$T/keys/authority.sign.key" --scope dataset:registry --reason "data under review" \
  --out "$T/halt-ds" >/dev/null
"$PHT" station orders --config "$T/station.json" "$T/halt-ds" >"$T/o" 2>&1
ok $? "the station takes a halt order for dataset registry"
[ "$(entry_field event)" = halt-order ] && [ "$(entry_field scope)" = dataset:registry ]
ok $? "  logged (event halt-order)"
sign "$T/h1.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a --permit P1
exec_train "$T/h1.signed"
[ $? -eq 1 ] && grep -q "halted by permit authority authority (scope dataset:registry, issued .*): data under review" "$T/err" &&
  [ "$(entry_field permit)" = P1 ]
ok $? "a train on the halted dataset is refused, logged with its permit"
sleep 1 # the lift must be issued in a later second than the halt
"$PHT" permit halt --key "$T/keys/authority.sign.key" --scope dataset:registry --lift --out "$T/lift-ds" >/dev/null
"$PHT" station orders --config "$T/station.json" "$T/lift-ds" "$T/halt-ds" >"$T/o" 2>&1
[ $? -eq 1 ] && grep -q "lift-ds: halt order stored" "$T/o" && grep -q "is not newer than the stored one" "$T/o"
ok $? "the lift replaces the halt, which cannot come back"
sign "$T/h2.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a --permit P1
exec_train "$T/h2.signed"
ok $? "after the lift the train runs"
"$PHT" permit halt --key "$T/keys/authority.sign.key" --scope permit:P1 --out "$T/halt-p1" >/dev/null
"$PHT" station orders --config "$T/station.json" "$T/halt-p1" >/dev/null 2>&1
sign "$T/h3.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a --permit P1
exec_train "$T/h3.signed"
[ $? -eq 1 ] && grep -q "scope permit:P1" "$T/err"
ok $? "a halt order for permit P1 stops its trains"
good_permit P2
sign "$T/h4.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a --permit-file "$T/P2.permit"
exec_train "$T/h4.signed"
ok $? "  but not those of permit P2"

# ---- the operator's halt and resume
"$PHT" station halt --config "$T/station.json" --by steward --reason "incident 42" >"$T/o" 2>&1
ok $? "pht station halt"
[ "$(entry_field event)" = halted ] && [ "$(entry_field by)" = steward ] && [ "$(entry_field reason)" = "incident 42" ]
ok $? "  logged (event halted, by, reason)"
"$PHT" station halt --config "$T/station.json" >"$T/o" 2>&1
[ $? -eq 1 ] && grep -q "station st-a is already halted (since .* by steward)" "$T/o"
ok $? "halting twice is refused"
sign "$T/s1.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a --permit P2
exec_train "$T/s1.signed"
[ $? -eq 1 ] && grep -q "station is halted by steward since .*: incident 42" "$T/err"
ok $? "a halted station refuses trains"
"$PHT" station resume --config "$T/station.json" --by steward >"$T/o" 2>&1
ok $? "pht station resume"
[ "$(entry_field event)" = resumed ]
ok $? "  logged (event resumed)"
sign "$T/s2.signed" "$MEAN" --key "$AK" --params '{"column":"age"}' --datasets registry --stations st-a --permit P2
exec_train "$T/s2.signed"
ok $? "after resume trains run again"

# a halt kills a running train: a train that would spin for a minute
cat >"$T/spin.lua" <<'LUA'
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
issue --id P-spin --analyst "analyst=$ANALYST_FP" --station st-a --dataset registry \
  --columns registry:age --purpose p --train "$T/spin.lua" --from 2020-01-01 --until 30d --out "$T/P-spin.permit"
sign "$T/spin.signed" "$T/spin.lua" --key "$AK" --datasets registry --stations st-a --permit-file "$T/P-spin.permit"
"$PHT" station exec --config "$T/station.json" "$T/spin.signed" >"$T/spin.out" 2>"$T/spin.err" &
BG=$!
# wait (bounded) until the train is under way: its received entry is in the log
for _ in $(seq 1 400); do
  grep -qE '"event":"received".*"permit":"P-spin"' "$T/audit.log" && break
  sleep 0.05
done
sleep 0.3
"$PHT" station halt --config "$T/station.json" --reason "stop the spin" >/dev/null 2>&1
ok $? "halt while a train runs"
# bounded wait for the exec to end (the train's own limit is 60 s)
for _ in $(seq 1 400); do kill -0 "$BG" 2>/dev/null || break; sleep 0.05; done
kill -0 "$BG" 2>/dev/null; still=$?
wait "$BG"; rc=$?; BG=
[ $still -ne 0 ] && [ $rc -eq 1 ]
ok $? "the running train was stopped (exec ended with exit 1 within the bounded wait)"
grep -q "the station was halted while the train ran: the run was stopped" "$T/spin.err"
ok $? "  and says why"
python3 - "$T/audit.log" <<'PY'
import json, sys
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
spin = [e for e in ev if e.get("permit") == "P-spin"]
halted = [i for i, e in enumerate(ev) if e.get("event") == "halted"]
failed = [i for i, e in enumerate(ev) if e.get("event") == "failed" and e.get("permit") == "P-spin"]
ok = (failed and halted and "the run was stopped" in ev[failed[-1]]["reason"]
      and not any(e.get("event") == "released" for e in spin))
sys.exit(0 if ok else 1)
PY
ok $? "  logged: halted, then failed with the reason and the permit id; nothing released"
"$PHT" station resume --config "$T/station.json" >/dev/null 2>&1
ok $? "resume after the stopped run"

# ---- the log still verifies after all this
"$PHT" audit verify "$T/audit.log" --station-key "$T/keys/st-a.sign.pub" >"$T/v" 2>&1
ok $? "the audit log verifies"

done_testing
