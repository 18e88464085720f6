#!/usr/bin/env bash
# daemon.sh — governance through a real node and station daemon on 127.0.0.1:
# the operator's halt stops a running train (logged, a signed result sent),
# and revocation lists and halt orders posted to the node reach the station
# within a poll cycle. Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
. "$(dirname "$0")/../lib.sh"
need curl

dir=$(mktemp -d /tmp/pht-gov-daemon-XXXXXX)
node_pid=""
st_pid=""

cleanup() {
  stop "$st_pid"
  stop "$node_pid"
}
keep_on_failure "$dir"
at_exit cleanup

# has_entry EVENT TRAIN [TEXT]: the station's log has EVENT for TRAIN (with TEXT in its reason)
has_entry() {
  python3 - "$dir/a/audit.log" "$@" <<'PY'
import json, sys
path, event, train = sys.argv[1], sys.argv[2], sys.argv[3]
text = sys.argv[4] if len(sys.argv) > 4 else None
for line in open(path):
    e = json.loads(line)["entry"]
    if e.get("event") == event and e.get("train") == train and (text is None or text in e.get("reason", "")):
        sys.exit(0)
sys.exit(1)
PY
}
c() { # c ARGS...: curl as analyst ana
  curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/ana-tls/cert.pem" \
    --key "$dir/ana-tls/key.pem" "$@"
}
# post FILE: posts the signed train FILE to station a; echoes its id
post() {
  local id
  id=$(python3 -c 'import base64,json,sys; e=json.load(open(sys.argv[1])); print(json.loads(base64.b64decode(e["payload"]))["id"])' "$1")
  python3 -c 'import json,sys; print(json.dumps({"train": sys.argv[1], "round": 1, "stations": ["a"], "envelope": open(sys.argv[2]).read()}))' \
    "$id" "$1" >"$dir/post.json"
  c -o "$dir/post.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$dir/post.json" "$url/v1/trains" >"$dir/post.code"
  echo "$id"
}
sign() { local out=$1; shift; "$PHT" train sign "$@" --out "$out" >/dev/null 2>"$dir/sign.err"; }

# ---- PKI, keys, data, configs
{
  "$PHT" pki init --out "$dir/ca" &&
  "$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role station --name a --out "$dir/a/tls" &&
  "$PHT" keygen --name ana --out "$dir/ana-keys" &&
  "$PHT" keygen --name a --out "$dir/a/keys" &&
  "$PHT" keygen --name authority --out "$dir/auth-keys" &&
  "$PHT" keygen --name rogue --out "$dir/rogue-keys" &&
  "$PHT" keygen --name rev --out "$dir/rev-keys"
} >"$dir/setup.log" 2>&1
ok $? "PKI and keys for a node, a station, an analyst and a permit authority" "$dir/setup.log"
mkdir -p "$dir/authorities" "$dir/a/data"
cp "$dir/auth-keys/authority.sign.pub" "$dir/authorities/"
cp "$SRC/tests/data/station/registry.csv" "$SRC/tests/data/station/registry.dict.json" "$dir/a/data/"

cat >"$dir/node.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "permit_authorities": "authorities",
 "limits": {"max_wait": 10, "timeout": 60}}
EOF
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 10 test -s "$dir/port"
ok $? "node listening, with a permit authority configured" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"

cat >"$dir/a/station.json" <<EOF
{"station": "a",
 "datasets": {"registry": {"csv": "data/registry.csv"}},
 "signers": [{"name": "ana", "key": "../ana-keys/ana.sign.pub", "mode": "auto"},
             {"name": "rev", "key": "../rev-keys/rev.sign.pub", "mode": "review"}],
 "policy": {"k": 5, "limits": {"instructions": 1000000000000, "time_seconds": 120}},
 "audit_log": "audit.log", "key": "keys/a.sign.key", "seen_ids": "seen-ids",
 "permit_authorities": ["../auth-keys/authority.sign.pub"],
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF
"$PHT" station run --config "$dir/a/station.json" --wait 2 --backoff-max 1 2>>"$dir/a/daemon.log" &
st_pid=$!
wait_until 20 grep -qs "published" "$dir/a/daemon.log"
ok $? "station daemon a polling" "$dir/a/daemon.log"

AK=$dir/ana-keys/ana.sign.key
AUTH=$dir/auth-keys/authority.sign.key
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
"$PHT" permit issue --key "$AUTH" --id P1 --analyst "ana=$dir/ana-keys/ana.sign.pub" --station a \
  --dataset registry --columns registry:age,sex --purpose "governance test" \
  --train "$SRC/tests/data/station/mean.lua" --train "$dir/spin.lua" \
  --from 2020-01-01 --until 30d --out "$dir/P1.permit" >"$dir/issue.log" 2>&1
ok $? "the authority issues permit P1 for mean.lua and spin.lua" "$dir/issue.log"

# ---- the operator's halt stops a running train
sign "$dir/spin.signed" "$dir/spin.lua" --key "$AK" --datasets registry --stations a --permit-file "$dir/P1.permit"
SPIN=$(post "$dir/spin.signed")
[ "$(cat "$dir/post.code")" = 201 ]
ok $? "spin train posted to the node" "$dir/post.out"
wait_until 20 has_entry received "$SPIN"
ok $? "the daemon received it and started it" "$dir/a/daemon.log"
sleep 0.5
"$PHT" station halt --config "$dir/a/station.json" --by steward --reason "stop now" >"$dir/halt.log" 2>&1
ok $? "pht station halt while the train runs" "$dir/halt.log"
# bounded wait: the train's own wall-clock limit is 120 s
wait_until 10 has_entry failed "$SPIN" "the run was stopped"
ok $? "the running train was stopped and logged as failed (halted while it ran)" "$dir/a/daemon.log"
python3 - "$dir/a/audit.log" "$SPIN" <<'PY'
import json, sys
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
h = [i for i, e in enumerate(ev) if e["event"] == "halted"]
f = [i for i, e in enumerate(ev) if e["event"] == "failed" and e.get("train") == sys.argv[2]]
sys.exit(0 if h and f and h[0] < f[0] and ev[f[0]].get("permit") == "P1"
         and not any(e["event"] == "released" and e.get("train") == sys.argv[2] for e in ev) else 1)
PY
ok $? "  halted is logged before failed; the failed entry carries permit P1; nothing released"
wait_until 20 sh -c "curl -sS --max-time 10 --cacert '$dir/ca/ca.pem' --cert '$dir/ana-tls/cert.pem' --key '$dir/ana-tls/key.pem' '$url/v1/trains/$SPIN/results' | grep -q '\"station\": *\"a\"'"
ok $? "  and the station posted a signed result for it"

# while halted, a new train is refused
sign "$dir/m1.signed" "$SRC/tests/data/station/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations a --permit P1
M1=$(post "$dir/m1.signed")
wait_until 20 has_entry rejected "$M1" "station is halted by steward"
ok $? "a halted station refuses a new train" "$dir/a/daemon.log"
"$PHT" station resume --config "$dir/a/station.json" --by steward >"$dir/resume.log" 2>&1
ok $? "pht station resume" "$dir/resume.log"
sign "$dir/m2.signed" "$SRC/tests/data/station/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations a --permit P1
M2=$(post "$dir/m2.signed")
wait_until 20 has_entry released "$M2"
ok $? "after resume the station runs trains under P1 again" "$dir/a/daemon.log"

# ---- revocation lists through the node
"$PHT" permit revoke --key "$AUTH" --seq 2 --id P1 --out "$dir/rev2" >/dev/null &&
  "$PHT" permit revoke --key "$AUTH" --seq 1 --out "$dir/rev1" >/dev/null &&
  "$PHT" permit revoke --key "$dir/rogue-keys/rogue.sign.key" --seq 5 --id P1 --out "$dir/rev-rogue" >/dev/null
ok $? "revocation lists signed"
post_gov() { # post_gov FILE: pht permit post with ana's TLS identity
  "$PHT" permit post "$1" --node "$url" --cert "$dir/ana-tls/cert.pem" \
    --tls-key "$dir/ana-tls/key.pem" --ca "$dir/ca/ca.pem" >"$dir/gov.out" 2>&1
}
post_gov "$dir/rev-rogue"
[ $? -eq 1 ] && grep -q "HTTP 403" "$dir/gov.out" && grep -q "unknown signer" "$dir/gov.out"
ok $? "the node refuses a list not signed by a configured authority (403)" "$dir/gov.out"
post_gov "$dir/rev2"
ok $? "pht permit post: the node takes the authority's list" "$dir/gov.out"
post_gov "$dir/rev1"
[ $? -eq 1 ] && grep -q "HTTP 409" "$dir/gov.out"
ok $? "an older list is refused by the node (409)" "$dir/gov.out"
c "$url/v1/revocations" >"$dir/revs.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d["revocations"]) == 1 and d["revocations"][0] == open(sys.argv[2]).read() else 1)' \
  "$dir/revs.json" "$dir/rev2"
ok $? "GET /v1/revocations serves the list byte for byte" "$dir/revs.json"
wait_until 20 grep -q '"event":"revocations"' "$dir/a/audit.log"
ok $? "the daemon fetched and logged the list within a poll cycle" "$dir/a/daemon.log"
sign "$dir/m3.signed" "$SRC/tests/data/station/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations a --permit P1
M3=$(post "$dir/m3.signed")
wait_until 20 has_entry rejected "$M3" "permit P1 was revoked (revocation list seq 2)"
ok $? "a train under the revoked permit is refused" "$dir/a/daemon.log"

# ---- halt orders through the node
"$PHT" permit issue --key "$AUTH" --id P2 --analyst "ana=$dir/ana-keys/ana.sign.pub" --station a \
  --dataset registry --columns registry:age --purpose "second" \
  --train "$SRC/tests/data/station/mean.lua" --from 2020-01-01 --until 30d --out "$dir/P2.permit" >/dev/null
"$PHT" permit halt --key "$AUTH" --scope all --reason "audit" --out "$dir/halt-all" >/dev/null
post_gov "$dir/halt-all"
ok $? "a halt order for everything posted to the node" "$dir/gov.out"
wait_until 20 grep -q '"event":"halt-order"' "$dir/a/audit.log"
ok $? "the daemon fetched and logged it within a poll cycle" "$dir/a/daemon.log"
sign "$dir/m4.signed" "$SRC/tests/data/station/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations a --permit-file "$dir/P2.permit"
M4=$(post "$dir/m4.signed")
wait_until 20 has_entry rejected "$M4" "halted by permit authority authority (scope all"
ok $? "a train is refused while the authority's halt is in force" "$dir/a/daemon.log"
sleep 1 # the lift must be issued in a later second than the halt
"$PHT" permit halt --key "$AUTH" --scope all --lift --out "$dir/lift-all" >/dev/null
post_gov "$dir/lift-all"
ok $? "the lift is posted" "$dir/gov.out"
wait_until 20 sh -c "grep -c '\"event\":\"halt-order\"' '$dir/a/audit.log' | grep -qx 2"
ok $? "the daemon fetched the lift" "$dir/a/daemon.log"
sign "$dir/m5.signed" "$SRC/tests/data/station/mean.lua" --key "$AK" --params '{"column":"age"}' \
  --datasets registry --stations a --permit P2
M5=$(post "$dir/m5.signed")
wait_until 20 has_entry released "$M5"
ok $? "after the lift trains under P2 run again" "$dir/a/daemon.log"

# ---- the analyst's client carries the permit in every round
mkdir -p "$dir/station-keys"
cp "$dir/a/keys/a.sign.pub" "$dir/station-keys/"
run() { "$PHT" run "$SRC/tests/data/station/mean.lua" --node "$url" --cert "$dir/ana-tls/cert.pem" \
  --key "$dir/ana-tls/key.pem" --ca "$dir/ca/ca.pem" --sign-key "$AK" --station-keys "$dir/station-keys" \
  --stations a --datasets registry --params '{"column":"age"}' --timeout 60s "$@"; }
run --permit-file "$dir/P2.permit" >"$dir/run.json" 2>"$dir/run.err"
ok $? "pht run --permit-file: released through the federation" "$dir/run.err"
want_n=$(awk -F, 'NR > 1 { n++ } END { print n }' "$SRC/tests/data/station/registry.csv")
python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["n"] == int(sys.argv[2]) else 1)' \
  "$dir/run.json" "$want_n"
ok $? "  the combined n equals the registry's row count ($want_n)" "$dir/run.json"
run >"$dir/run2.json" 2>"$dir/run2.err"
[ $? -eq 1 ] && grep -q "no permit" "$dir/run2.err"
ok $? "pht run without a permit: the station's signed refusal says why" "$dir/run2.err"

# ---- a queued train: the steward's decision is logged with the permit
"$PHT" permit issue --key "$AUTH" --id P3 --analyst "rev=$dir/rev-keys/rev.sign.pub" --station a \
  --dataset registry --columns registry:age --purpose "reviewed" \
  --train "$SRC/tests/data/station/mean.lua" --from 2020-01-01 --until 30d --out "$dir/P3.permit" >/dev/null
sign "$dir/q1.signed" "$SRC/tests/data/station/mean.lua" --key "$dir/rev-keys/rev.sign.key" \
  --params '{"column":"age"}' --datasets registry --stations a --permit-file "$dir/P3.permit"
Q1=$(post "$dir/q1.signed")
wait_until 20 has_entry queued "$Q1"
ok $? "a review signer's train under a permit is queued" "$dir/a/daemon.log"
wait_until 20 sh -c "'$PHT' station queue --config '$dir/a/station.json' | grep -q '$Q1'"
"$PHT" station approve --config "$dir/a/station.json" "$Q1" --by steward >"$dir/approve.log" 2>&1
ok $? "pht station approve" "$dir/approve.log"
python3 - "$dir/a/audit.log" "$Q1" <<'PY'
import json, sys
ev = [json.loads(l)["entry"] for l in open(sys.argv[1])]
sys.exit(0 if any(e["event"] == "approved" and e.get("train") == sys.argv[2] and e.get("permit") == "P3" for e in ev) else 1)
PY
ok $? "  the approved entry carries permit P3"
wait_until 30 has_entry released "$Q1"
ok $? "  the approved train passes the permit checks again and is released" "$dir/a/daemon.log"

"$PHT" audit verify "$dir/a/audit.log" --station-key "$dir/a/keys/a.sign.pub" >"$dir/verify.log" 2>&1
ok $? "the station's audit log verifies" "$dir/verify.log"

done_testing
