#!/usr/bin/env bash
# node_disk.sh — the node's store on a 16 MiB tmpfs: the WAL stays bounded
# (checkpointed and cut back), a full disk gets 503 with Retry-After (not
# 500), the node writes again by itself when space returns, and a node
# started on a full disk waits for space and then serves everything it had
# acknowledged. Skipped if a tmpfs cannot be mounted (not root). Prints TAP.
. "$(dirname "$0")/lib.sh"

if ! mount_tmpfs 16m; then echo "1..0 # SKIP cannot mount a tmpfs (needs root)"; exit 0; fi
alive() { kill -0 "$node_pid" 2>/dev/null; }
# post_n N PREFIX: posts the 135 KB train N times as PREFIX0..; echoes the HTTP codes
post_n() {
  python3 - "$url" "$1" "$2" "$dir" <<'PY'
import json, ssl, sys, http.client
url, n, prefix, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=d + "/ca/ca.pem")
ctx.load_cert_chain(d + "/ana-tls/cert.pem", d + "/ana-tls/key.pem")
ctx.check_hostname = False
host, port = url.rsplit(":", 1)
codes = []
for i in range(n):
    c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=30)
    body = json.dumps({"train": "%s%d" % (prefix, i), "round": 1, "stations": ["a"],
                       "envelope": open(d + "/big.signed").read()})
    try:
        c.request("POST", "/v1/trains", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        codes.append("%d%s" % (r.status, "+retry" if r.getheader("Retry-After") else ""))
        r.read()
    except OSError as e:
        codes.append("err")
    c.close()
print(" ".join(codes))
PY
}
wal_size() { stat -c %s "$mnt/node.db-wal" 2>/dev/null || echo 0; }

echo "1..10"
setup_pki
pad=$(head -c 100000 /dev/zero | tr '\0' x)
"$PHT" train sign "$SRC/tests/data/station/mean.lua" --key "$dir/ana-keys/ana.sign.key" \
  --params "{\"column\": \"age\", \"pad\": \"$pad\"}" --out "$dir/big.signed" >/dev/null 2>"$dir/sign.err"
ok $? "PKI, keys and a signed train of 135 KB" "$dir/sign.err"
node_config "$mnt/node.db"
start_node
ok $? "node listening, its store on a 16 MiB tmpfs" "$dir/node.log"

# ---- the WAL stays bounded: 60 trains of 135 KB (8 MB through the WAL)
codes=$(post_n 60 w)
[ "$(echo "$codes" | tr ' ' '\n' | sort -u)" = 201 ]
ok $? "60 trains of 135 KB stored" "$dir/node.log"
wal_small() { [ "$(wal_size)" -le $((4 * 1024 * 1024)) ]; }
wait_until 30 wal_small
ok $? "the WAL is checkpointed and cut back to at most 4 MiB ($(wal_size) bytes)" "$dir/node.log"

# ---- the disk fills up
fill "$mnt/filler"
# (writes go on while they fit in the WAL's own space; then 503)
codes=$(post_n 40 f)
kinds=$(echo "$codes" | tr ' ' '\n' | sort -u | tr '\n' ' ')
[ "$kinds" = "503+retry " ] || [ "$kinds" = "201 503+retry " ]
ok $? "disk full: writes that do not fit get 503 with Retry-After, never 500 ($kinds)" "$dir/node.log"
[ "$(grep -c "answering 503 to writes" "$dir/node.log")" = 1 ] && alive
ok $? "said once in the log; the node keeps running" "$dir/node.log"
rm -f "$mnt/filler"
codes=$(post_n 1 back)
[ "$codes" = 201 ]
ok $? "space returns: the next write is stored without a restart ($codes)" "$dir/node.log"

# ---- killed (SIGKILL) on a full disk, and started again before space returns
fill "$mnt/filler"
post_n 3 k >/dev/null
kill -KILL "$node_pid"; wait "$node_pid" 2>/dev/null; node_pid=""
before=$(grep -c . "$dir/node.log")
rm -f "$dir/port"
"$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
node_pid=$!
since() { tail -n +$((before + 1)) "$dir/node.log" | grep -q "$1"; }
wait_until 30 since "waiting for space\|listening on"
alive
ok $? "killed and started again on a full disk: it waits for space or serves, it does not exit" "$dir/node.log"
rm -f "$mnt/filler"
wait_until 30 test -s "$dir/port"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"
codes=$(post_n 1 after)
[ "$codes" = 201 ]
ok $? "space returns: the restarted node stores again ($codes)" "$dir/node.log"
all=0
for t in w0 w59 back0 after0; do
  [ "$(c -o /dev/null -w '%{http_code}' "$url/v1/trains/$t/results")" = 200 ] || all=1
done
[ "$all" = 0 ]
ok $? "every train it acknowledged before is still there" "$dir/node.log"
