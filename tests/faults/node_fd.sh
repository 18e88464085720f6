#!/usr/bin/env bash
# node_fd.sh — the node with too few descriptors for its clients: it does not
# spin on accept() (EMFILE), logs the condition once, keeps serving the
# analyst from its reserve, refuses stations past limits.max_connections with
# 503 and Retry-After, and accepts again once clients leave. SIGHUP is logged
# and ignored. Prints TAP.
. "$(dirname "$0")/lib.sh"

alive() { kill -0 "$node_pid" 2>/dev/null; }
lines() { grep -c . "$dir/node.log" 2>/dev/null || echo 0; }
# hold N SECONDS [tls]: opens N connections to the node and holds them
# (bare TCP, or TLS as station a with a long poll each); prints
# "opened K refused503 R"
hold() {
  python3 - "$url" "$1" "$2" "${3:-}" "$dir" <<'PY'
import socket, ssl, sys, time
url, n, secs, mode, d = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
port = int(url.rsplit(":", 1)[1])
socks, refused = [], 0
ctx = None
if mode == "tls":
    ctx = ssl.create_default_context(cafile=d + "/ca/ca.pem")
    ctx.load_cert_chain(d + "/a/tls/cert.pem", d + "/a/tls/key.pem")
    ctx.check_hostname = False
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if ctx is not None:
            s = ctx.wrap_socket(s)
            s.sendall(b"GET /v1/inbox?wait=8 HTTP/1.1\r\nHost: node\r\n\r\n")
        socks.append(s)
    except OSError:
        pass
if ctx is not None:
    for s in socks:
        s.settimeout(0.5)
        try:
            head = s.recv(4096)
            if b" 503 " in head.split(b"\r\n")[0] + b" " and b"Retry-After: 5" in head:
                refused += 1
        except OSError:
            pass
time.sleep(secs)
print("opened %d refused503 %d" % (len(socks), refused))
for s in socks:
    s.close()
PY
}

echo "1..10"
setup_pki
ok $? "PKI and keys" "$dir/setup.log"

# ---- descriptors run out: 40 in all, 60 idle clients
node_config node.db '"max_wait": 1, "timeout": 3'
(ulimit -n 40 && exec "$PHT" node serve --config "$dir/node.json" --port-file "$dir/port") 2>>"$dir/node.log" &
node_pid=$!
wait_until 20 test -s "$dir/port"
ok $? "node listening with a limit of 40 descriptors" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port")"
before=$(lines)
hold 60 3 >"$dir/hold1.out" 2>&1
after=$(lines)
alive
ok $? "60 idle clients against 40 descriptors: the node is still running" "$dir/node.log"
[ $((after - before)) -lt 40 ]
ok $? "no spin: $((after - before)) log lines while the descriptors were out (not one per failed accept)" "$dir/node.log"
grep -Eq "not accepting (for a while|until one closes)" "$dir/node.log"
ok $? "it says it stopped accepting" "$dir/node.log"
wait_until 20 bash -c "curl -sS --max-time 5 --cacert '$dir/ca/ca.pem' --cert '$dir/ana-tls/cert.pem' --key '$dir/ana-tls/key.pem' '$url/v1/stations' | grep -q stations"
ok $? "the clients gone, the analyst is served again" "$dir/node.log"
kill -HUP "$node_pid"
wait_until 10 grep -q "SIGHUP" "$dir/node.log"
wait_until 10 bash -c "curl -sS --max-time 5 --cacert '$dir/ca/ca.pem' --cert '$dir/ana-tls/cert.pem' --key '$dir/ana-tls/key.pem' '$url/v1/stations' | grep -q stations"
ok $? "SIGHUP: logged and ignored, the node keeps serving" "$dir/node.log"
stop "$node_pid"; node_pid=""

# ---- limits.max_connections 10: stations past it get 503, the analyst is served
node_config node.db '"max_wait": 10, "timeout": 60, "max_connections": 10'
start_node
ok $? "node listening with limits.max_connections 10" "$dir/node.log"
hold 16 4 tls >"$dir/hold2.out" 2>&1 &
hpid=$!
wait_until 20 grep -q "refusing connections past limits.max_connections" "$dir/node.log"
code=$(c -o /dev/null -w '%{http_code}' "$url/v1/stations")
[ "$code" = 200 ]
ok $? "10 stations long-polling, more refused: the analyst is served (HTTP $code)" "$dir/node.log"
wait "$hpid"
grep -Eq "opened 16 refused503 [1-9]" "$dir/hold2.out"
ok $? "stations past the cap got 503 with Retry-After ($(cat "$dir/hold2.out"))" "$dir/hold2.out"
