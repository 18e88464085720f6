# tests/lib.sh — shared by the shell tests (sourced, bash): TAP lines, bounded
# waits, stopping processes and cleanup at exit. A test sources it first:
#
#   . "$(dirname "$0")/../lib.sh"
#   need curl                       # "1..0 # SKIP curl not installed" if missing
#   dir=$(mktemp -d /tmp/pht-NAME-XXXXXX)
#   at_exit 'rm -rf "$dir"'         # or keep_on_failure "$dir"
#   ok $? "what was checked" "$dir/err"
#   done_testing                    # prints the plan "1..N", fails if any failed
#
# Every wait is bounded: wait_until SECONDS CMD..., stop PID (SIGTERM, then
# SIGKILL after 10 s).

n=0          # tests so far
failed=0     # tests that failed
ok_tail=${ok_tail:-25}   # lines of a failed test's file shown (as # comments)

# ok STATUS DESCRIPTION [FILE]: one TAP line for the check whose exit status
# is STATUS; on failure the last $ok_tail lines of FILE follow as comments.
ok() {
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    failed=$((failed + 1))
    if [ -n "${3:-}" ] && [ -f "$3" ]; then sed 's/^/# /' "$3" | tail -n "$ok_tail"; fi
  fi
  return 0
}

# skip DESCRIPTION REASON: a test that was not run, as TAP counts it.
skip() {
  n=$((n + 1))
  echo "ok $n - $1 # SKIP $2"
}

# skip_all REASON: the whole test is skipped (plan 1..0); exits.
skip_all() {
  echo "1..0 # SKIP $1"
  exit 0
}

# need PROGRAM...: skips the whole test unless every PROGRAM is installed.
need() {
  local p
  for p in "$@"; do command -v "$p" >/dev/null || skip_all "$p not installed"; done
}

# diag FILE...: the files as TAP comments.
diag() { sed 's/^/# /' "$@"; }

# wait_until SECONDS CMD...: polls CMD every 0.1 s; 0 once it succeeds, 1 at the deadline.
wait_until() {
  local secs=$1 i; shift
  for i in $(seq 1 $((secs * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}

# stop PID: SIGTERM, up to 10 s, then SIGKILL; reaps it. Nothing if PID is empty.
stop() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# at_exit CMD: runs CMD (a shell string) when the test exits, the last
# registered first. An interrupt (INT, TERM) exits with status 1 through it.
lib_at_exit=()
at_exit() { lib_at_exit+=("$1"); }
lib_exit() {
  local i
  for ((i = ${#lib_at_exit[@]} - 1; i >= 0; i--)); do eval "${lib_at_exit[$i]}"; done
}
trap lib_exit EXIT
trap 'exit 1' INT TERM

# keep_on_failure DIR: at exit, removes DIR if every test passed, else keeps
# it and says where (PHT_KEEP set: always kept).
keep_on_failure() {
  at_exit "if [ \"\$failed\" -eq 0 ] && [ -z \"\${PHT_KEEP:-}\" ]; then rm -rf '$1'; else echo '# left $1 for inspection'; fi"
}

# done_testing: prints the plan; the test's status is 1 if any test failed.
# fed_pki DIR "STATION ..." ["NAME ..."]: the keys and certificates of a test
# federation: a CA in DIR/ca; certificates for the node (DIR/node-tls), the
# analyst ana (DIR/ana-tls) and each STATION (DIR/STATION/tls); signing and
# sealing keys for ana (DIR/ana-keys), each STATION (DIR/STATION/keys) and
# each other NAME (DIR/NAME-keys). Needs $PHT; output in DIR/setup.log;
# non-zero when a step fails.
fed_pki() {
  local d=$1 s
  {
    "$PHT" pki init --out "$d/ca" &&
      "$PHT" pki issue --ca "$d/ca" --role node --name node --out "$d/node-tls" &&
      "$PHT" pki issue --ca "$d/ca" --role analyst --name ana --out "$d/ana-tls" &&
      "$PHT" keygen --name ana --out "$d/ana-keys" || return 1
    for s in $2; do
      "$PHT" pki issue --ca "$d/ca" --role station --name "$s" --out "$d/$s/tls" &&
        "$PHT" keygen --name "$s" --out "$d/$s/keys" || return 1
    done
    for s in ${3:-}; do
      "$PHT" keygen --name "$s" --out "$d/$s-keys" || return 1
    done
  } >"$d/setup.log" 2>&1
}

done_testing() {
  echo "1..$n"
  [ "$failed" -eq 0 ]
}
