#!/usr/bin/env bash
# run_fuzzer.sh — runs a libFuzzer binary for a bounded time on a private copy of its seed corpus.
# usage: run_fuzzer.sh FUZZER CORPUS_DIR [libFuzzer flags...]
# The repository's corpus is never written to: new inputs go to a temporary
# copy that is removed afterwards. On a crash the temporary directory (with
# the crash-* artifact) is kept and its path printed.
set -u
fuzzer=${1:?usage: run_fuzzer.sh FUZZER CORPUS_DIR [flags...]}
corpus=${2:?usage: run_fuzzer.sh FUZZER CORPUS_DIR [flags...]}
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/pht-fuzz-XXXXXX") || exit 1
mkdir "$work/corpus" && cp -R "$corpus"/. "$work/corpus"/ || { rm -rf "$work"; exit 1; }
"$fuzzer" -artifact_prefix="$work/" "$@" "$work/corpus"
rc=$?
# libFuzzer exits 77 on some crashes, which meson would count as a skip:
# any non-zero exit of the fuzzer is a failure here.
[ $rc -eq 77 ] && rc=1
if [ $rc -eq 0 ]; then
  rm -rf "$work"
else
  echo "run_fuzzer.sh: $fuzzer failed (exit $rc); inputs and artifacts kept in $work" >&2
fi
exit $rc
