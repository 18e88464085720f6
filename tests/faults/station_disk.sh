#!/usr/bin/env bash
# station_disk.sh — the station's disk fills up (a 4 MiB tmpfs holding its
# audit log, seen ids, in-flight marker and outbox): the daemon pauses (no
# new train taken, nothing lost), says so once, and resumes by itself when
# space returns. Skipped if a tmpfs cannot be mounted (not root).
# Prints TAP.
. "$(dirname "$0")/lib.sh"

if ! mount_tmpfs 4m; then echo "1..0 # SKIP cannot mount a tmpfs (needs root)"; exit 0; fi
alive() { kill -0 "$st_pid" 2>/dev/null; }
count() { grep -c "$1" "$dir/a/daemon.log" 2>/dev/null || true; }
# free_pages N: empties the filler, then fills the disk again but for N pages
free_pages() {
  rm -f "$mnt/filler"
  local avail
  avail=$(df -B4096 --output=avail "$mnt" | tail -1)
  dd if=/dev/zero of="$mnt/filler" bs=4096 count=$((avail - $1)) 2>/dev/null
}
released() { # released TRAIN: exactly one release logged, its sealed result at the node
  [ "$(events "$1" | tr ' ' '\n' | grep -c '^released$')" = 1 ] &&
    [ "$(result_status "$1")" = "released+sealed" ]
}

echo "1..12"
setup_pki
ok $? "PKI and keys" "$dir/setup.log"
node_config node.db
start_node
ok $? "node listening" "$dir/node.log"
ADIR=$mnt/a
station_config
start_station
sign "$dir/t0.signed"
T0=$(post "$dir/t0.signed")
wait_until 60 grep -qs "result for train $T0 round 1 posted" "$dir/a/daemon.log"
ok $? "station a answers a train with its state on a 4 MiB tmpfs" "$dir/a/daemon.log"

# ---- the disk is full when a train arrives
fill "$mnt/filler"
sign "$dir/t1.signed"
T1=$(post "$dir/t1.signed")
wait_until 60 grep -qs "paused:" "$dir/a/daemon.log"
ok $? "disk full: the daemon says it is paused" "$dir/a/daemon.log"
# let it retry a few times (bounded backoff of 1 s)
before=$(grep -c . "$dir/a/daemon.log")
wait_until 20 test "$(grep -c . "$dir/a/daemon.log")" -gt "$before" || sleep 3
sleep 3
alive && [ "$(count "paused:")" = 1 ]
ok $? "still running while the disk stays full, and said so once" "$dir/a/daemon.log"
[ -z "$(events "$T1")" ] && [ "$(result_status "$T1")" = "none" ]
ok $? "the train was not taken: nothing logged, no answer, still in the node's inbox" "$dir/a/daemon.log"
rm -f "$mnt/filler"
wait_until 60 grep -qs "result for train $T1 round 1 posted" "$dir/a/daemon.log"
ok $? "space returns: the daemon resumes by itself and answers the train" "$dir/a/daemon.log"
grep -q "resumed" "$dir/a/daemon.log" && released "$T1"
ok $? "it says it resumed; the train released once, its sealed result at the node" "$dir/a/daemon.log"

# ---- the disk fills up in the middle of a run: one page left, room for the marker
# and the audit entries but not the outbox item (the point of issue 13)
stop "$st_pid"; st_pid=""
sign "$dir/t2.signed"
T2=$(post "$dir/t2.signed")
free_pages ${PAGES:-1}
start_station
paused_or_done() {
  [ "$(count "paused:")" -gt 1 ] || grep -qs "result for train $T2 round 1 posted" "$dir/a/daemon.log"
}
wait_until 60 paused_or_done
alive
ok $? "disk full mid-run: the daemon is still running" "$dir/a/daemon.log"
rm -f "$mnt/filler"
wait_until 60 grep -qs "result for train $T2 round 1 posted" "$dir/a/daemon.log"
ok $? "space returns: the interrupted run is finished and answered" "$dir/a/daemon.log"
released "$T2"
ok $? "released once, its sealed result at the node" "$dir/a/daemon.log"
"$PHT" audit verify "$mnt/a/audit.log" --station-key "$dir/a/keys/a.sign.pub" >"$dir/verify.out" 2>&1
ok $? "the audit log verifies: no entry lost or torn" "$dir/verify.out"
