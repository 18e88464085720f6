#!/usr/bin/env bash
# rclient.sh — builds and checks the R client (clients/r) against this build's
# pht: R CMD build (which runs the vignette), then R CMD check --no-manual
# (the package's testthat tests and the vignette again). Where the build has
# the node, a federation on 127.0.0.1 (a node and three stations holding the
# colon split of tests/reference/data) is started first, so that the tests
# also run pht_run() through it. Offline: no repository is consulted.
# Prints TAP. Args: the registry generator, "node" or "no-node".
# Env: PHT, PHT_SRC (meson's test_env).
set -u
PHT=${PHT:?PHT must point at the pht executable}
SRC=${PHT_SRC:?PHT_SRC must point at the source tree}
GEN=${1:?the registry generator}
with_node=${2:-no-node}
. "$(dirname "$0")/../lib.sh"
command -v R >/dev/null && command -v Rscript >/dev/null ||
  skip_all "R is not installed (Debian r-base-core; tools/deps installs it)"
GEN="$(cd "$(dirname "$GEN")" && pwd)/$(basename "$GEN")"

dir=$(mktemp -d /tmp/pht-rclient-XXXXXX)
keep_on_failure "$dir"
# Interrupted (INT, TERM): say so, and keep the work folder (R CMD check's logs).
trap 'echo "not ok - interrupted by a signal during the step after test $n"; failed=1; exit 1' \
  INT TERM
pids=()
cleanup() { local p; for p in "${pids[@]}"; do stop "$p"; done; }
at_exit cleanup

# The packages the client and its checks need, from Debian (tools/deps).
Rscript -e 'for (p in c("jsonlite", "testthat", "survival", "knitr", "markdown"))
  if (!requireNamespace(p, quietly = TRUE)) { cat("missing R package", p, "\n"); q(status = 1) }' \
  >"$dir/rpkgs.log" 2>&1
ok $? "R packages jsonlite, testthat, survival, knitr, markdown are installed" "$dir/rpkgs.log"

# An empty local repository: R CMD check's dependency check would otherwise
# look one up on the network.
mkdir -p "$dir/repo/src/contrib"
: >"$dir/repo/src/contrib/PACKAGES"
echo "options(repos = c(LOCAL = 'file://$dir/repo'))" >"$dir/Rprofile"
export R_PROFILE_USER="$dir/Rprofile"
export R_LIBS_USER="$dir/lib"
mkdir -p "$dir/lib"
export PHT PHT_SRC="$SRC" PHT_REGISTRY_GEN="$GEN"
export _R_CHECK_CRAN_INCOMING_=false _R_CHECK_CRAN_INCOMING_REMOTE_=false
export _R_CHECK_FORCE_SUGGESTS_=true

# ---- a federation for pht_run() ----
if [ "$with_node" = node ] && command -v curl >/dev/null; then
  fed="$dir/fed"
  mkdir -p "$fed"
  {
    "$PHT" pki init --out "$fed/ca" &&
    "$PHT" pki issue --ca "$fed/ca" --role node --name node --out "$fed/node-tls" &&
    "$PHT" pki issue --ca "$fed/ca" --role analyst --name ana --out "$fed/ana/tls" &&
    "$PHT" keygen --name ana --out "$fed/ana/keys" &&
    for s in a b c; do
      "$PHT" pki issue --ca "$fed/ca" --role station --name $s --out "$fed/$s/tls" &&
      "$PHT" keygen --name $s --out "$fed/$s/keys" || exit 1
    done
  } >"$fed/setup.log" 2>&1
  ok $? "federation: PKI and keys" "$fed/setup.log"
  mkdir -p "$fed/ana/station-keys"
  cat >"$fed/node.json" <<JSON
{"listen": "127.0.0.1", "port": 0, "cert": "node-tls/cert.pem", "key": "node-tls/key.pem",
 "ca": "node-tls/ca.pem", "database": "node.db", "limits": {"max_wait": 10, "timeout": 60}}
JSON
  "$PHT" node serve --config "$fed/node.json" --port-file "$fed/port" 2>"$fed/node.log" &
  pids+=($!)
  wait_until 20 test -s "$fed/port"
  ok $? "federation: node listening" "$fed/node.log"
  url="https://127.0.0.1:$(cat "$fed/port" 2>/dev/null || echo 1)"
  files=""
  i=0
  for s in a b c; do
    i=$((i + 1))
    mkdir -p "$fed/$s/data"
    cp "$SRC/tests/reference/data/colon/station$i.csv" "$fed/$s/data/colon.csv"
    cp "$SRC/tests/reference/data/colon/station$i.dict.json" "$fed/$s/data/colon.dict.json"
    cp "$fed/$s/keys/$s.sign.pub" "$fed/ana/station-keys/"
    files="$files${files:+,}$s=$fed/$s/data/colon.csv"
    cat >"$fed/$s/station.json" <<JSON
{"station": "$s",
 "datasets": {"colon": {"csv": "data/colon.csv", "dict": "data/colon.dict.json"}},
 "signers": [{"name": "ana", "key": "../ana/keys/ana.sign.pub", "mode": "auto"}],
 "policy": {"k": 5, "limits": {"time_seconds": 60}},
 "audit_log": "audit.log", "key": "keys/$s.sign.key", "seen_ids": "seen-ids",
 "node": {"url": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem"}}
JSON
    "$PHT" station run --config "$fed/$s/station.json" --wait 20 --backoff-max 1 \
      2>"$fed/$s/daemon.log" &
    pids+=($!)
  done
  cat >"$fed/ana/analyst.json" <<JSON
{"node": "$url", "cert": "tls/cert.pem", "key": "tls/key.pem", "ca": "tls/ca.pem",
 "sign_key": "keys/ana.sign.key", "station_keys": "station-keys", "timeout": "120s"}
JSON
  listed() {
    [ "$("$PHT" stations --config "$fed/ana/analyst.json" 2>/dev/null | grep -c colon)" -ge 3 ]
  }
  wait_until 60 listed
  ok $? "federation: three stations registered with the node" "$fed/a/daemon.log"
  export PHT_TEST_ANALYST_CONFIG="$fed/ana/analyst.json" PHT_TEST_STATION_FILES="$files"
  expect_skips=0
else
  skip "federation for pht_run()" "this build has no node (or curl is missing)"
  expect_skips=1
fi

# ---- R CMD build: installs the package and runs the vignette ----
cd "$dir" || exit 1
R CMD build "$SRC/clients/r" >"$dir/build.log" 2>&1
ok $? "R CMD build clients/r (the vignette runs pht)" "$dir/build.log"
tarball=$(ls "$dir"/pht_*.tar.gz 2>/dev/null | head -n 1)

# The vignette ran its code (the demo's results are in it, not the note
# printed when pht is not found).
html=$(tar -xzOf "$tarball" pht/inst/doc/pht.html 2>/dev/null)
printf '%s' "$html" | grep -q 'Likelihood ratio test' &&
  printf '%s' "$html" | grep -q 'ipilimumab+nivolumab' &&
  ! printf '%s' "$html" | grep -q 'built without the pht executable'
ok $? "the vignette holds the demo's outcomes report and Cox model" "$dir/build.log"

# ---- R CMD check ----
R CMD check --no-manual "$tarball" >"$dir/check.log" 2>&1
rc=$?
diag_file="$dir/pht.Rcheck/00check.log"
[ $rc -eq 0 ] && grep -q '^Status: OK' "$dir/check.log"
ok $? "R CMD check --no-manual: Status OK (no error, warning or note)" "$dir/check.log"
grep -E 'NOTE|WARNING|ERROR' "$dir/check.log" | diag /dev/stdin

# The tests ran, against this pht, and all passed: testthat's last summary.
rout="$dir/pht.Rcheck/tests/testthat.Rout"
[ -f "$rout.fail" ] && rout="$rout.fail"
summary=$(grep -E '^\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' "$rout" |
  tail -n 1)
echo "# testthat: $summary"
fail=$(sed -E 's/.*FAIL ([0-9]+).*/\1/' <<<"$summary")
warn=$(sed -E 's/.*WARN ([0-9]+).*/\1/' <<<"$summary")
skips=$(sed -E 's/.*SKIP ([0-9]+).*/\1/' <<<"$summary")
pass=$(sed -E 's/.*PASS ([0-9]+).*/\1/' <<<"$summary")
[ -n "$summary" ] && [ "$fail" -eq 0 ] && [ "$warn" -eq 0 ] && [ "$pass" -ge 300 ]
ok $? "testthat: no failure or warning, $pass expectations passed" "$rout"
[ -n "$summary" ] && [ "$skips" -eq "$expect_skips" ]
ok $? "testthat: $skips tests skipped (expected $expect_skips: pht and the sources were found)" \
  "$rout"

done_testing
