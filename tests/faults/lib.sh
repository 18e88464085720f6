# lib.sh — shared by the fault tests (sourced, after tests/lib.sh): a PKI, a node
# and station "a" on 127.0.0.1, and the analyst's curl. Every wait is a bounded loop.
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need curl python3

dir=$(mktemp -d /tmp/pht-faults-XXXXXX)
node_pid=""
st_pid=""
mnt=""

cleanup() {
  stop "$st_pid"
  stop "$node_pid"
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
}
keep_on_failure "$dir"
at_exit cleanup

# mount_tmpfs SIZE: a small tmpfs at $dir/disk ($mnt); 1 if it cannot be mounted
mount_tmpfs() {
  mkdir -p "$dir/disk"
  mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$dir/disk" 2>/dev/null || return 1
  mnt=$dir/disk
}
# fill FILE: writes zeros to FILE until the disk is full
fill() { dd if=/dev/zero of="$1" bs=4096 2>/dev/null; sync; return 0; }

c() { # c ARGS...: curl as analyst ana
  curl -sS --max-time 30 --cacert "$dir/ca/ca.pem" --cert "$dir/ana-tls/cert.pem" \
    --key "$dir/ana-tls/key.pem" "$@"
}
train_id() { # train_id ENVELOPE-FILE
  python3 -c 'import base64,json,sys; e=json.load(open(sys.argv[1])); print(json.loads(base64.b64decode(e["payload"]))["id"])' "$1"
}
# post FILE: posts the signed train FILE to station a; echoes its id, HTTP code in $dir/post.code
post() {
  local id
  id=$(train_id "$1")
  python3 -c 'import json,sys; print(json.dumps({"train": sys.argv[1], "round": 1, "stations": ["a"], "envelope": open(sys.argv[2]).read()}))' \
    "$id" "$1" >"$dir/post.json"
  c -o "$dir/post.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$dir/post.json" "$url/v1/trains" >"$dir/post.code"
  echo "$id"
}
# result_status TRAIN: the status of station a's result at the node ("none" if none),
# "+sealed" appended when it carries a sealed payload
result_status() {
  c "$url/v1/trains/$1/results" 2>/dev/null | python3 -c '
import base64, json, sys
try:
    rs = json.load(sys.stdin)["results"]
except Exception:
    print("none"); sys.exit(0)
for r in rs:
    if r["station"] != "a":
        continue
    env = r["result"] if isinstance(r["result"], dict) else json.loads(r["result"])
    p = json.loads(base64.b64decode(env["payload"]))
    print(p["status"] + ("+sealed" if "sealed" in p else ""))
    sys.exit(0)
print("none")'
}
# events TRAIN: the station's audit events for TRAIN, space-separated
events() {
  python3 - "${ADIR:-$dir/a}/audit.log" "$1" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    e = json.loads(line)["entry"]
    if e.get("train") == sys.argv[2]:
        out.append(e["event"] + (":" + e["error"] if e.get("error") else ""))
print(" ".join(out))
PY
}

# spid[NAME]: the pid of station NAME's daemon, for tests that run several;
# stop_stations stops them all (put it in the test's EXIT trap).
declare -A spid=()
stop_stations() { local s; for s in "${!spid[@]}"; do stop "${spid[$s]}"; done; }
# get FILE PATH: one value of a JSON result, by path (tests/trains/check.lua)
get() { lua5.4 "$SRC/tests/trains/check.lua" get "$1" "$2"; }

# setup_pki: CA, node/analyst/station certificates, signing keys (ana, a, other)
setup_pki() { fed_pki "$dir" a other; }
# node_config DB [LIMITS-JSON]: writes $dir/node.json (limits default: max_wait 10, timeout 60)
node_config() {
  local lim='"max_wait": 10, "timeout": 60'
  [ -z "${2:-}" ] || lim=$2
  cat >"$dir/node.json" <<EOF
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "$1",
 "limits": {$lim}}
EOF
}
# start_node: starts the node on $dir/node.json; sets node_pid and url
start_node() {
  rm -f "$dir/port"
  "$PHT" node serve --config "$dir/node.json" --port-file "$dir/port" 2>>"$dir/node.log" &
  node_pid=$!
  wait_until 20 test -s "$dir/port" || return 1
  url="https://127.0.0.1:$(cat "$dir/port")"
}
# station_config [SIGNER]: station a's config (signer ana by default), audit log in
# ${ADIR:-$dir/a}
station_config() {
  local signer=${1:-ana} adir=${ADIR:-$dir/a}
  mkdir -p "$dir/a/data" "$adir"
  cp "$SRC/tests/data/station/registry.csv" "$SRC/tests/data/station/registry.dict.json" "$dir/a/data/"
  cat >"$dir/a/station.json" <<EOF
{"station": "a",
 "datasets": {"registry": {"csv": "data/registry.csv"}},
 "signers": [{"name": "ana", "key": "../$signer-keys/$signer.sign.pub", "mode": "auto"}],
 "policy": {"k": 5},
 "audit_log": "$adir/audit.log", "key": "keys/a.sign.key", "seen_ids": "$adir/seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
EOF
}
# start_station: the daemon of station a; sets st_pid
start_station() {
  "$PHT" station run --config "$dir/a/station.json" --wait 2 --backoff-max 1 2>>"$dir/a/daemon.log" &
  st_pid=$!
}
# sign OUT [ARGS...]: mean.lua over age, signed by ana for station a
sign() {
  local out=$1; shift
  "$PHT" train sign "$SRC/tests/data/station/mean.lua" --key "$dir/ana-keys/ana.sign.key" \
    --datasets registry --stations a --params '{"column": "age"}' --out "$out" "$@" \
    >/dev/null 2>"$dir/sign.err"
}
