#!/usr/bin/env bash
# node_store.sh — the node checks its store at start: a WAL deleted or cut
# after a crash (acknowledged trains gone) or a damaged database is refused
# with what was lost, never served silently; --accept-store-loss goes on
# knowingly and says how much was given up. Prints TAP.
. "$(dirname "$0")/lib.sh"

# post_n N PREFIX: posts a small signed train N times as PREFIX0..; echoes the codes
post_n() {
  local i codes=""
  for i in $(seq 0 $(($1 - 1))); do
    python3 -c 'import json,sys; print(json.dumps({"train": sys.argv[1], "round": 1, "stations": ["a"], "envelope": open(sys.argv[2]).read()}))' \
      "$2$i" "$dir/t.signed" >"$dir/post.json"
    codes="$codes $(c -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary @"$dir/post.json" "$url/v1/trains")"
  done
  echo $codes
}
# serve_fails: the node refuses to start on the store; its message in $dir/start.err
serve_fails() {
  timeout 60 "$PHT" node serve --config "$dir/node.json" --port-file "$dir/port2" \
    >/dev/null 2>"$dir/start.err" &
  local pid=$! i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    [ -s "$dir/port2" ] && break
    sleep 0.1
  done
  if [ -s "$dir/port2" ]; then rm -f "$dir/port2"; stop "$pid"; return 1; fi
  wait "$pid"
  [ $? -ne 0 ]
}
crash_after() { # crash_after N PREFIX: starts the node, posts N trains, SIGKILL
  start_node || return 1
  [ "$(post_n "$1" "$2" | tr ' ' '\n' | sort -u)" = 201 ] || return 1
  kill -KILL "$node_pid"; wait "$node_pid" 2>/dev/null; node_pid=""
}

echo "1..9"
setup_pki && sign "$dir/t.signed"
ok $? "PKI, keys and a signed train" "$dir/setup.log"
node_config node.db

# ---- the WAL deleted after a crash
crash_after 20 d
ok $? "20 trains acknowledged (201), then the node killed with SIGKILL" "$dir/node.log"
rm -f "$dir/node.db-wal" "$dir/node.db-shm"
serve_fails && grep -q "lost writes the node acknowledged" "$dir/start.err"
ok $? "WAL deleted: the node refuses the store and says writes are missing" "$dir/start.err"
grep -o "[0-9]* missing" "$dir/start.err" | grep -q "^[1-9][0-9]* missing$"
ok $? "it says how many: $(grep -o '[0-9]* missing' "$dir/start.err")" "$dir/start.err"
before=$(grep -c . "$dir/node.log")
rm -f "$dir/port"; "$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" --accept-store-loss 2>>"$dir/node.log" &
node_pid=$!
wait_until 20 test -s "$dir/port"
tail -n +$((before + 1)) "$dir/node.log" | grep -q "acknowledged writes given up"
ok $? "--accept-store-loss: it serves, and logs the writes given up" "$dir/node.log"
url="https://127.0.0.1:$(cat "$dir/port" 2>/dev/null || echo 1)"
stop "$node_pid"; node_pid=""

# ---- the WAL cut in the middle after a crash
crash_after 17 w
ok $? "17 more trains acknowledged, then SIGKILL" "$dir/node.log"
size=$(stat -c %s "$dir/node.db-wal" 2>/dev/null || echo 0)
truncate -s $((size / 2)) "$dir/node.db-wal"
serve_fails && grep -q "lost writes the node acknowledged" "$dir/start.err"
ok $? "WAL cut to half ($size bytes -> $((size / 2))): refused, $(grep -o '[0-9]* missing' "$dir/start.err")" "$dir/start.err"

# ---- a damaged database file
rm -f "$dir/port"; "$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" --accept-store-loss 2>>"$dir/node.log" &
node_pid=$!
wait_until 20 test -s "$dir/port"
stop "$node_pid"; node_pid=""
python3 - "$dir/node.db" <<'PY'
import os, sys
p = sys.argv[1]
size = os.path.getsize(p)
with open(p, "r+b") as f:
    for off in range(4096 + 50, size, 4096):
        f.seek(off)
        f.write(b"\xa5" * 64)
PY
ok $? "every page of the database but the first overwritten in part"
serve_fails && [ -s "$dir/start.err" ]
ok $? "damaged database: the node refuses to start ($(head -c 150 "$dir/start.err"))" "$dir/start.err"
