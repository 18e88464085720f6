#!/usr/bin/env bash
# node_curl.sh — the node seen by the curl command line: who gets in, and the JSON errors. Prints TAP.
set -u
PHT=${PHT:?PHT must point at the pht executable}
. "$(dirname "$0")/../lib.sh"
need curl

dir=$(mktemp -d /tmp/pht-node-curl-XXXXXX)
node_pid=""

keep_on_failure "$dir"
at_exit 'stop "$node_pid"'

"$PHT" pki init --out "$dir/ca" >/dev/null &&
"$PHT" pki init --out "$dir/other" >/dev/null &&
"$PHT" pki issue --ca "$dir/ca" --role node --name node --out "$dir/node" >/dev/null &&
"$PHT" pki issue --ca "$dir/ca" --role station --name a --out "$dir/a" >/dev/null &&
"$PHT" pki issue --ca "$dir/ca" --role analyst --name ana --out "$dir/ana" >/dev/null &&
"$PHT" pki issue --ca "$dir/other" --role analyst --name ana --out "$dir/foreign" >/dev/null
ok $? "PKI made with pht pki"

"$PHT" pki issue --ca "$dir/ca" --role station --name Bad --out "$dir/bad" 2>"$dir/err"
rc=$?
[ $rc -eq 2 ] && grep -q 'name "Bad"' "$dir/err"
ok $? "pht pki issue refuses a bad name with exit 2 and says why"
[ "$(stat -c %a "$dir/a/key.pem")" = 600 ] && [ "$(stat -c %a "$dir/ca/ca-key.pem")" = 600 ]
ok $? "private keys are mode 0600"
openssl x509 -in "$dir/a/cert.pem" -noout -subject 2>/dev/null | grep -q 'CN = pht:station:a'
ok $? "openssl reads the station's identity as subject CN"
openssl verify -CAfile "$dir/ca/ca.pem" -purpose sslserver "$dir/node/cert.pem" >/dev/null 2>&1
ok $? "openssl verifies the node certificate for TLS servers"
! openssl verify -CAfile "$dir/ca/ca.pem" "$dir/foreign/cert.pem" >/dev/null 2>&1
ok $? "openssl refuses the foreign certificate against the federation CA"

cat >"$dir/node.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node/cert.pem", "key": "node/key.pem",
 "ca": "ca/ca.pem", "database": "node.db", "limits": {"max_body": 4096, "max_wait": 5, "timeout": 20}}
EOF
cat >"$dir/bad.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node/cert.pem", "key": "node/key.pem",
 "ca": "ca/ca.pem", "database": "node.db", "limitz": {}}
EOF
"$PHT" node serve --config "$dir/bad.json" 2>"$dir/err"
rc=$?
[ $rc -eq 2 ] && grep -q 'unknown field "limitz"' "$dir/err"
ok $? "pht node serve refuses an unknown config field (exit 2, names it)"

cat >"$dir/wrongcert.json" <<EOF
{"port": 0, "cert": "a/cert.pem", "key": "a/key.pem", "ca": "ca/ca.pem", "database": "x.db"}
EOF
"$PHT" node serve --config "$dir/wrongcert.json" 2>"$dir/err"
rc=$?
[ $rc -ne 0 ] && grep -q "a station certificate, not the node's" "$dir/err"
ok $? "pht node serve refuses to run with a station certificate"

"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>"$dir/node.log" &
node_pid=$!
for _ in $(seq 1 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
port=$(cat "$dir/port" 2>/dev/null)
[ -n "$port" ]
ok $? "node listening on 127.0.0.1 port ${port:-?}"
base="https://localhost:$port"

# c WHO ARGS... : curl as WHO (a directory with cert.pem and key.pem) pinning the CA.
c() {
  local who=$1; shift
  curl -sS --max-time 20 --cacert "$dir/ca/ca.pem" --cert "$dir/$who/cert.pem" \
    --key "$dir/$who/key.pem" "$@"
}

out=$(curl -sS --max-time 20 --cacert "$dir/ca/ca.pem" "$base/v1/stations" 2>&1)
rc=$?
[ $rc -ne 0 ] && ! echo "$out" | grep -q '"stations"'
ok $? "a client without a certificate is refused (curl exit $rc)"

out=$(c foreign "$base/v1/stations" 2>&1)
rc=$?
[ $rc -ne 0 ] && ! echo "$out" | grep -q '"stations"'
ok $? "a client with a certificate from another CA is refused (curl exit $rc)"

out=$(c node "$base/v1/stations" 2>&1)
rc=$?
[ $rc -ne 0 ] && ! echo "$out" | grep -q '"stations"'
ok $? "the node's own certificate (serverAuth only) is refused as a client (curl exit $rc)"

out=$(c ana --tls-max 1.2 "$base/v1/stations" 2>&1)
rc=$?
[ $rc -ne 0 ]
ok $? "TLS 1.2 is refused (curl exit $rc)"

out=$(curl -sS --max-time 20 --cacert "$dir/other/ca.pem" --cert "$dir/ana/cert.pem" \
  --key "$dir/ana/key.pem" "$base/v1/stations" 2>&1)
rc=$?
[ $rc -eq 60 ]
ok $? "the client refuses a node not issued by the CA it pins (curl exit $rc)"

code=$(c ana -o "$dir/body" -w '%{http_code}' "$base/v1/stations")
[ "$code" = 200 ] && grep -q '"stations"' "$dir/body"
ok $? "analyst with a federation certificate lists stations"

code=$(c a -o "$dir/body" -w '%{http_code}' -d '{"train":"t1","round":1,"stations":["a"],"envelope":"{}"}' "$base/v1/trains")
[ "$code" = 403 ] && grep -q '"error"' "$dir/body" && grep -q 'only analysts' "$dir/body"
ok $? "station certificate posting to /v1/trains: 403 with a JSON error"

code=$(c ana -o "$dir/body" -w '%{http_code}' -d '{"train":' "$base/v1/trains")
[ "$code" = 400 ] && grep -q '"error"' "$dir/body"
ok $? "malformed JSON: 400 with a JSON error"

code=$(c ana -o "$dir/body" -w '%{http_code}' "$base/v1/no/such/thing")
[ "$code" = 404 ] && grep -q '"error"' "$dir/body"
ok $? "unknown route: 404 with a JSON error"

head -c 10000 /dev/zero | tr '\0' ' ' >"$dir/big"
code=$(c ana -o /dev/null -w '%{http_code}' --data-binary @"$dir/big" "$base/v1/trains")
[ "$code" = 413 ]
ok $? "oversized body: 413"

code=$(c ana -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' x)" "$base/v1/stations")
[ "$code" = 413 ] || [ "$code" = 400 ] || [ "$code" = 431 ]
ok $? "oversized headers refused ($code)"

code=$(c ana -o "$dir/body" -w '%{http_code}' -d '{"train":"t1","round":1,"stations":["a"],"envelope":"{\"id\":\"t1\"}"}' "$base/v1/trains")
[ "$code" = 201 ]
ok $? "analyst posts a train: 201"

code=$(c a -o "$dir/body" -w '%{http_code}' "$base/v1/inbox?wait=1")
[ "$code" = 200 ] && grep -q '"train":"t1"' "$dir/body" && grep -q '"analyst":"ana"' "$dir/body"
ok $? "station a receives it, with the analyst named from the certificate"

kill -0 "$node_pid" 2>/dev/null
ok $? "the node is still serving"

kill -INT "$node_pid"
for _ in $(seq 1 200); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.05; done
wait "$node_pid"
rc=$?
node_pid=""
[ $rc -eq 0 ] && grep -q 'signal 2: shutting down' "$dir/node.log" && grep -q 'stopped' "$dir/node.log"
ok $? "SIGINT stops the node cleanly (exit $rc; SIGTERM is tested in test_node_server)"

done_testing
