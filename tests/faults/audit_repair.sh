#!/usr/bin/env bash
# audit_repair.sh — a station's audit log cut in the middle of line 3: `pht
# audit repair` says exactly what it removed (the bytes of one unfinished
# entry, no complete entry) and, comparing with the head the node
# published, which entries the log had already lost. Prints TAP.
. "$(dirname "$0")/lib.sh"

LOG=$dir/a/audit.log
KEY=$dir/a/keys/a.sign.key
nlines() { grep -c . "$LOG" 2>/dev/null || echo 0; }

echo "1..7"
setup_pki
ok $? "PKI and keys" "$dir/setup.log"
node_config node.db
start_node && station_config && start_station
wait_until 30 grep -qs "published" "$dir/a/daemon.log"
ok $? "node and station a running" "$dir/a/daemon.log"
for i in 1 2 3 4; do
  sign "$dir/t$i.signed"
  T=$(post "$dir/t$i.signed")
  wait_until 60 grep -qs "result for train $T round 1 posted" "$dir/a/daemon.log" || break
done
stop "$st_pid"; st_pid=""
total=$(nlines)
[ "$total" -ge 10 ]
ok $? "four trains answered: $total entries, the last head published with the results" "$dir/a/daemon.log"

# cut in the middle of line 3: 50 bytes of it left
cp "$LOG" "$dir/full.log"
off=$(head -n 2 "$LOG" | wc -c)
truncate -s $((off + 50)) "$LOG"
"$PHT" audit repair "$LOG" --station-key "$KEY" --config "$dir/a/station.json" >"$dir/repair.out" 2>&1
rc=$?
grep -q "removed a torn last line of 50 bytes after entry 2: the unfinished start of entry 3; no complete entry was removed" "$dir/repair.out"
ok $? "repair says what it removed: 50 bytes, the start of entry 3, no complete entry" "$dir/repair.out"
grep -q "the node's published head is entry $total: entries 3 to $total ($((total - 2)) entries) are missing from this log" "$dir/repair.out" && [ "$rc" = 1 ]
ok $? "against the node's published head: entries 3 to $total missing, exit 1" "$dir/repair.out"

# a torn line with nothing lost before it: the head the node has is in the log
cp "$dir/full.log" "$LOG"
printf '{"hash":"00' >>"$LOG"
"$PHT" audit repair "$LOG" --station-key "$KEY" --config "$dir/a/station.json" >"$dir/repair2.out" 2>&1
rc=$?
grep -q "holds the node's published head (entry $total): nothing acknowledged was lost" "$dir/repair2.out" && [ "$rc" = 0 ]
ok $? "a torn tail after the published head: repaired, nothing lost, exit 0" "$dir/repair2.out"

# without a published head it says what it cannot know
cp "$dir/full.log" "$LOG"
printf '{"hash":"00' >>"$LOG"
"$PHT" audit repair "$LOG" --station-key "$KEY" >"$dir/repair3.out" 2>&1
grep -q "cannot be seen from the log alone" "$dir/repair3.out"
ok $? "without the node's head: it says lost entries cannot be seen from the log alone" "$dir/repair3.out"
