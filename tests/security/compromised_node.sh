#!/usr/bin/env bash
# compromised_node.sh — results forged by a compromised node (or anyone who can write its mailbox) are refused by the analyst (TAP).
# usage: compromised_node.sh SIGN_PAYLOAD   (tests/proto/sign_payload.c)
#
# A real node on 127.0.0.1 and an analyst running `pht run` with station
# a's signing key pinned. No station daemon: this script plays the
# attacker who controls the node's mailbox (here through station a's TLS
# certificate, which stores a result exactly as a mailbox write would).
#   1. a result signed with another key but claiming station a's key id
#      (bad signature) is refused by the analyst and never taken as a's;
#   2. a result signed by an unknown key is refused too;
#   3. the control: the same kind of result signed with a's real key is
#      accepted as a's answer;
#   4. a stolen station key (T11): without a station certificate the thief
#      cannot post anything (403), and once the analyst re-pins station a
#      to its new key, results signed with the stolen one are refused.
# Every wait is bounded; the node and pht run are killed at exit.
set -u
sign_payload=${1:?usage: compromised_node.sh SIGN_PAYLOAD}
: "${PHT:?PHT not set}"
. "$(dirname "$0")/../lib.sh"
ok_tail=15
dir=$(mktemp -d "${TMPDIR:-/tmp}/pht-sec-node-XXXXXX")
node_pid=; run_pid=
cleanup() {
  [ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null
  [ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
at_exit cleanup

{
  "$PHT" pki init --out "$dir/ca" &&
  "$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana-tls" &&
  "$PHT" pki issue --ca "$dir/ca" --role station --name a --out "$dir/a-tls" &&
  "$PHT" keygen --name ana --out "$dir/ana-keys" &&
  "$PHT" keygen --name a --out "$dir/a-keys" &&
  "$PHT" keygen --name mallory --out "$dir/mallory-keys"
} >"$dir/setup.log" 2>&1
ok $? "PKI and keys for a node, station a, analyst ana and an attacker" "$dir/setup.log"
mkdir -p "$dir/station-keys" && cp "$dir/a-keys/a.sign.pub" "$dir/station-keys/"

cat >"$dir/node.json" <<EOF2
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 30, "timeout": 60}}
EOF2
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
wait_until 20 test -s "$dir/port"
ok $? "node listening" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"
cat >"$dir/analyst.json" <<EOF2
{"node": "$url", "cert": "ana-tls/cert.pem", "key": "ana-tls/key.pem", "ca": "ana-tls/ca.pem",
 "sign_key": "ana-keys/ana.sign.key", "station_keys": "station-keys", "timeout": "8s"}
EOF2

as_a() { curl -sS --max-time 20 --cacert "$dir/ca/ca.pem" --cert "$dir/a-tls/cert.pem" \
  --key "$dir/a-tls/key.pem" "$@"; }

# forge CASE KEYFILE SIGNER_FROM: waits for the train in a's inbox, then
# posts a result for it signed with KEYFILE; SIGNER_FROM (a public key
# file or "") replaces the envelope's signer id.
forge() {
  local case=$1 keyfile=$2 signer_from=$3 train round
  wait_until 20 sh -c "curl -sS --max-time 20 --cacert '$dir/ca/ca.pem' --cert '$dir/a-tls/cert.pem' \
    --key '$dir/a-tls/key.pem' '$url/v1/inbox' >'$dir/inbox.json' && grep -q '\"train\"' '$dir/inbox.json'" ||
    return 1
  read -r train round < <(python3 -c 'import json,sys
t=json.load(open(sys.argv[1]))["trains"][-1]; print(t["train"], t["round"])' "$dir/inbox.json") || return 1
  python3 - "$train" "$round" >"$dir/$case.payload" <<'PY' || return 1
import json, sys, time
msg = {"kind": "pht-result", "train": sys.argv[1], "round": int(sys.argv[2]),
       "station": "a", "status": "refused",
       "issued": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "log_head": {"seq": 0, "hash": "0" * 64},
       "error": "policy", "reason": "MARKER-%s" % "forged"}
sys.stdout.write(json.dumps(msg, sort_keys=True, separators=(",", ":")))
PY
  sed -i "s/MARKER-forged/MARKER-$case/" "$dir/$case.payload"
  "$sign_payload" "$keyfile" "$dir/$case.payload" "$dir/$case.env" || return 1
  if [ -n "$signer_from" ]; then
    # the signer id of the pinned key, the signature of another
    local fp
    fp=$(python3 - "$dir/a.env" <<'PY'
import json, sys
print(json.load(open(sys.argv[1]))["signer"])
PY
) || return 1
    python3 - "$dir/$case.env" "$fp" <<'PY' || return 1
import json, sys
e = json.load(open(sys.argv[1])); e["signer"] = sys.argv[2]
open(sys.argv[1], "w").write(json.dumps(e, separators=(",", ":")) + "\n")
PY
  fi
  python3 - "$dir/$case.env" "$round" >"$dir/$case.body" <<'PY'
import json, sys
print(json.dumps({"round": int(sys.argv[2]), "result": open(sys.argv[1]).read(),
                  "log_head": {"seq": 0, "hash": "0" * 64}}))
PY
  as_a -X POST -H 'Content-Type: application/json' --data-binary @"$dir/$case.body" \
    "$url/v1/trains/$train/results" >"$dir/$case.post" 2>&1 &&
  grep -q '"stored": *true' "$dir/$case.post"
}

# station a's real key id, from an envelope it signs
echo '{}' >"$dir/x.json" && "$sign_payload" "$dir/a-keys/a.sign.key" "$dir/x.json" "$dir/a.env"
ok $? "station a's key id taken from an envelope it signed"

run_case() { # run_case CASE KEYFILE SIGNER_FROM
  "$PHT" run "$SRC_DIR/trains/std/count.lua" --config "$dir/analyst.json" --stations a \
    --timeout 20s >"$dir/$1.out" 2>"$dir/$1.err" &
  run_pid=$!
  forge "$@"
  local f=$?
  wait_until 60 sh -c "! kill -0 $run_pid 2>/dev/null"
  kill -9 "$run_pid" 2>/dev/null; wait "$run_pid" 2>/dev/null
  run_pid=
  return $f
}
SRC_DIR=${PHT_SRC:?PHT_SRC not set}

run_case badsig "$dir/mallory-keys/mallory.sign.key" a
ok $? "attacker posted a result signed by another key under a's key id" "$dir/badsig.post"
grep -q "result from a refused" "$dir/badsig.err" && grep -qi "bad signature" "$dir/badsig.err" &&
  ! grep -q "MARKER-badsig" "$dir/badsig.err" "$dir/badsig.out"
ok $? "pht run refuses it: bad signature, its content never shown as a's" "$dir/badsig.err"

run_case unknown "$dir/mallory-keys/mallory.sign.key" ""
ok $? "attacker posted a result signed by an unpinned key" "$dir/unknown.post"
grep -q "result from a refused" "$dir/unknown.err" && grep -qi "unknown signer" "$dir/unknown.err" &&
  ! grep -q "MARKER-unknown" "$dir/unknown.err" "$dir/unknown.out"
ok $? "pht run refuses it: unknown signer" "$dir/unknown.err"

run_case genuine "$dir/a-keys/a.sign.key" ""
ok $? "a result signed with station a's real key posted" "$dir/genuine.post"
grep -q "MARKER-genuine" "$dir/genuine.err" "$dir/genuine.out" && ! grep -q "result from a refused" "$dir/genuine.err"
ok $? "control: the genuinely signed result is accepted as a's answer" "$dir/genuine.err"

# ---- T11: station a's signing key stolen
# (a) the key alone does not reach the node: a result signed with it,
# posted with a certificate that is not a station's, is refused
train=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trains"][-1]["train"])' "$dir/inbox.json" 2>/dev/null)
code=$(curl -sS --max-time 20 --cacert "$dir/ca/ca.pem" --cert "$dir/ana-tls/cert.pem" \
  --key "$dir/ana-tls/key.pem" -o "$dir/stolen-post.out" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' --data-binary @"$dir/genuine.body" \
  "$url/v1/trains/$train/results" 2>&1)
[ "$code" = 403 ] && grep -q "only stations may post results" "$dir/stolen-post.out"
ok $? "a result signed with the stolen key, posted without a station certificate: 403" "$dir/stolen-post.out"
# (b) the analyst re-pins station a to its new key: the stolen key's results are refused
"$PHT" keygen --name a --out "$dir/a-keys-new" >/dev/null 2>&1 &&
  cp "$dir/a-keys-new/a.sign.pub" "$dir/station-keys/a.sign.pub"
ok $? "station a gets a new key; the analyst re-pins it"
run_case stolen "$dir/a-keys/a.sign.key" ""
ok $? "the thief (through a's certificate) posted a result signed with the old key" "$dir/stolen.post"
grep -q "result from a refused" "$dir/stolen.err" && ! grep -q "MARKER-stolen" "$dir/stolen.err" "$dir/stolen.out"
ok $? "pht run refuses it: the old key is no longer a's" "$dir/stolen.err"
run_case renewed "$dir/a-keys-new/a.sign.key" ""
grep -q "MARKER-renewed" "$dir/renewed.err" "$dir/renewed.out" && ! grep -q "result from a refused" "$dir/renewed.err"
ok $? "control: a result signed with a's new key is accepted" "$dir/renewed.err"

done_testing
