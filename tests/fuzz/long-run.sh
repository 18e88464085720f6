#!/usr/bin/env bash
# long-run.sh — runs every libFuzzer target for a given time and reports executions, coverage and crashes.
# usage: tests/fuzz/long-run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
#
# BUILD_DIR is a build configured with clang and -Dfuzzing=true, e.g.
#   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined \
#       -Db_lundef=false -Dfuzzing=true && ninja -C build-fuzz
# SECONDS_PER_TARGET defaults to 300. TARGETs are names as in
# tests/fuzz/corpus/ (envelope, dataset, train_frame, result, node_request,
# audit, station_config); default: every target found in BUILD_DIR.
#
# Each target runs on a private copy of its seed corpus (the repository is
# never written to), with -max_total_time, a 10 s per-input timeout
# (a hang is a failure) and leak detection on. One line per target:
#   TARGET  execs=N  exec/s=N  cov=N  ft=N  corpus=N  result=ok|CRASH (artifact)
# taken from libFuzzer's final "#N DONE cov: ft: corp: exec/s:" line and its
# -print_final_stats. Exit status 1 if any target crashed, leaked, hung or
# could not run. The full libFuzzer output of each target is kept in
# $PHT_FUZZ_LOGS (default: a temporary directory, printed at the end).
set -u
build=${1:?usage: long-run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]}
secs=${2:-300}
shift $(( $# >= 2 ? 2 : 1 ))
src=$(cd "$(dirname "$0")/../.." && pwd)
corpus_root=$src/tests/fuzz/corpus
logs=${PHT_FUZZ_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/pht-fuzz-logs-XXXXXX")}
mkdir -p "$logs"

case $secs in (*[!0-9]*|'') echo "long-run.sh: seconds must be a number" >&2; exit 2;; esac

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for d in "$corpus_root"/*/; do
    t=$(basename "$d")
    [ -n "$(find "$build" -name "fuzz_$t" -type f -perm -u+x -print -quit)" ] &&
      targets+=("$t")
  done
fi
[ ${#targets[@]} -gt 0 ] || { echo "long-run.sh: no fuzz targets in $build (configure with -Dfuzzing=true)" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
printf '%-16s %12s %8s %7s %7s %7s  %s\n' target execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  bin=$(find "$build" -name "fuzz_$t" -type f -perm -u+x -print -quit)
  if [ -z "$bin" ] || [ ! -d "$corpus_root/$t" ]; then
    printf '%-16s %s\n' "$t" "result=MISSING (no binary or no corpus)"
    failed=1
    continue
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/pht-fuzz-$t-XXXXXX")
  mkdir "$work/corpus" && cp -R "$corpus_root/$t"/. "$work/corpus"/
  # the outer timeout is a backstop against a fuzzer that itself hangs
  timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 \
    -error_exitcode=1 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" >"$logs/$t.log" 2>&1
  rc=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logs/$t.log" | tail -1)
  [ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+[[:space:]]' "$logs/$t.log" | tail -1)
  execs=$(grep -E '^stat::number_of_executed_units:' "$logs/$t.log" | awk '{print $2}')
  [ -n "$execs" ] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")
  eps=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$done_line")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$done_line")
  artifact=$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1)
  if [ $rc -eq 0 ] && [ -z "$artifact" ]; then
    result=ok
    rm -rf "$work"
  else
    result="CRASH exit=$rc ${artifact:-no artifact} (log $logs/$t.log)"
    failed=1
  fi
  printf '%-16s %12s %8s %7s %7s %7s  result=%s\n' "$t" "${execs:-?}" \
    "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
echo "libFuzzer logs: $logs"
exit $failed
