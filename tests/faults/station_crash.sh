#!/usr/bin/env bash
# station_crash.sh — a station killed in the middle of a run and restarted
# after the train expired finishes the run from its audit log and goes on:
# no crash loop, nothing run twice; a run that cannot be finished is closed
# as "failed: interrupted" in the log. SIGHUP leaves the daemon running.
# The crash is the state SIGKILL leaves at the chosen point: the in-flight
# marker written, the audit entries up to the point on disk, no outbox item.
# Prints TAP.
. "$(dirname "$0")/lib.sh"

# mark TRAIN-FILE: the in-flight marker the daemon writes before a train runs
mark() {
  python3 -c 'import json,sys; print(json.dumps({"train": sys.argv[1], "round": 1, "envelope": open(sys.argv[2]).read()}))' \
    "$(train_id "$1")" "$1" >"$dir/a/audit.log.inflight"
}
# expired FILE: the train's expiry has passed
expired() { "$PHT" train verify "$1" --trust "$dir/ana-keys/ana.sign.pub" 2>&1 | grep -q expired; }
alive() { kill -0 "$st_pid" 2>/dev/null; }

echo "1..18"
setup_pki
ok $? "PKI and keys" "$dir/setup.log"
node_config node.db
start_node
ok $? "node listening" "$dir/node.log"
station_config

# ---- 1. killed between the released entry and the outbox write
sign "$dir/t1.signed" --expires 10s
T1=$(post "$dir/t1.signed")
mark "$dir/t1.signed"
"$PHT" station exec --config "$dir/a/station.json" "$dir/t1.signed" >"$dir/exec1.out" 2>&1
[ "$(events "$T1")" = "received executed released" ]
ok $? "crash state: train logged as released, marker left, nothing in the outbox" "$dir/exec1.out"
wait_until 40 expired "$dir/t1.signed"
ok $? "the train has expired before the station comes back"
start_station
wait_until 30 grep -qs "result for train $T1 round 1 posted" "$dir/a/daemon.log"
ok $? "restarted after expiry: the logged release is sealed and posted" "$dir/a/daemon.log"
[ "$(result_status "$T1")" = "released+sealed" ]
ok $? "the node holds a's released result, sealed to the analyst" "$dir/a/daemon.log"
alive && [ ! -e "$dir/a/audit.log.inflight" ] && [ "$(events "$T1")" = "received executed released" ]
ok $? "daemon running, marker gone, the train did not run again" "$dir/a/daemon.log"

# ---- 6. SIGHUP leaves the daemon running and serving
kill -HUP "$st_pid" 2>/dev/null
sign "$dir/t0.signed"
T0=$(post "$dir/t0.signed")
wait_until 30 grep -qs "result for train $T0 round 1 posted" "$dir/a/daemon.log"
alive
ok $? "SIGHUP: the daemon keeps running and answers the next train" "$dir/a/daemon.log"
stop "$st_pid"; st_pid=""

# ---- 2. killed after the marker, before anything was logged; back after expiry
sign "$dir/t2.signed" --expires 3s
T2=$(post "$dir/t2.signed")
mark "$dir/t2.signed"
wait_until 40 expired "$dir/t2.signed"
start_station
wait_until 30 grep -qs "result for train $T2 round 1 posted" "$dir/a/daemon.log"
ok $? "marker without an outcome, train expired: answered" "$dir/a/daemon.log"
[ "$(events "$T2")" = "rejected:expired" ] && [ "$(result_status "$T2")" = "rejected" ]
ok $? "logged and answered as rejected: expired" "$dir/a/daemon.log"
stop "$st_pid"; st_pid=""

# ---- 3. a release that can no longer be sealed: the signer's key was replaced
sign "$dir/t3.signed" --expires 10s
T3=$(post "$dir/t3.signed")
mark "$dir/t3.signed"
"$PHT" station exec --config "$dir/a/station.json" "$dir/t3.signed" >"$dir/exec3.out" 2>&1
station_config other
start_station
wait_until 30 grep -qs "result for train $T3 round 1 posted" "$dir/a/daemon.log"
ok $? "a release that cannot be sealed any more: the run is closed and answered" "$dir/a/daemon.log"
[ "$(events "$T3")" = "received executed released failed:interrupted" ]
ok $? "the audit log closes it as failed: interrupted" "$dir/a/daemon.log"
[ "$(result_status "$T3")" = "failed" ]
ok $? "the analyst gets a failed result, no output" "$dir/a/daemon.log"
"$PHT" audit verify "$dir/a/audit.log" --station-key "$dir/a/keys/a.sign.pub" >"$dir/verify.out" 2>&1
ok $? "the audit log verifies" "$dir/verify.out"

# ---- every start made progress: no exit, no restart loop
alive && ! grep -q "missing (a released result is sealed)" "$dir/a/daemon.log"
ok $? "the daemon is still running; no start ended in an error" "$dir/a/daemon.log"

# ---- a start on a torn audit log says why and waits for the operator's repair
stop "$st_pid"; st_pid=""
printf '{"hash":"00' >>"$dir/a/audit.log"
station_config
start_station
wait_until 30 grep -qs "cannot start: .*waiting for it to clear" "$dir/a/daemon.log"
ok $? "torn audit log at start: the daemon says why and waits" "$dir/a/daemon.log"
alive
ok $? "it has not exited" "$dir/a/daemon.log"
"$PHT" audit repair "$dir/a/audit.log" --station-key "$dir/a/keys/a.sign.key" >"$dir/repair.out" 2>&1
sign "$dir/t4.signed"
T4=$(post "$dir/t4.signed")
wait_until 60 grep -qs "result for train $T4 round 1 posted" "$dir/a/daemon.log"
[ "$(result_status "$T4")" = "released+sealed" ]
ok $? "after pht audit repair it starts by itself and answers the next train" "$dir/a/daemon.log"
