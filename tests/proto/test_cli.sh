#!/usr/bin/env bash
# test_cli.sh — pht keygen and pht train sign|verify from the command line:
# files and modes, fingerprints, exit codes and the one-line reasons. TAP.
# usage: PHT=path/to/pht test_cli.sh path/to/proto_sign_payload
set -u
PHT=${PHT:?PHT must name the pht binary}
SIGN=${1:?usage: test_cli.sh PROTO_SIGN_PAYLOAD}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pht-cli-XXXXXX")
. "$(dirname "$0")/../lib.sh"
at_exit 'rm -rf "$tmp"'

# run CMD...: sets rc, out (stdout) and err (stderr)
run() {
  out=$("$@" 2>"$tmp/.stderr")
  rc=$?
  err=$(cat "$tmp/.stderr")
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
expect_rc() { # want description
  [ "$rc" -eq "$1" ]; local s=$?
  ok $s "$2 (exit $1)"
  [ $s -eq 0 ] || diag "exit $rc" "stdout: $out" "stderr: $err"
}
has() { # haystack needle description
  case "$1" in *"$2"*) ok 0 "$3";; *) ok 1 "$3"; diag "wanted: $2" "got: $1";; esac
}
one_line() { # text description
  [ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]; ok $? "$2"
}
mode() { stat -c %a "$1"; }
# lower-case hex SHA-256 of the raw 32-byte key inside a PEM public key, by openssl(1)
raw_fp() { openssl pkey -pubin -in "$1" -outform DER | tail -c 32 | sha256sum | cut -d' ' -f1; }
raw_b64() { openssl pkey -pubin -in "$1" -outform DER | tail -c 32 | base64 -w0; }
# payload of an envelope file, decoded
payload_of() { sed -n 's/.*"payload":"\([^"]*\)".*/\1/p' "$1" | base64 -d; }
# flip_byte FILE POS MASK > OUT
flip_byte() { perl -e 'local $/; open(my $f, "<", $ARGV[0]) or die; binmode $f; my $d = <$f>;
  substr($d, $ARGV[1], 1) = chr(ord(substr($d, $ARGV[1], 1)) ^ $ARGV[2]); binmode STDOUT; print $d' "$@"; }

# --- keygen -----------------------------------------------------------------
run "$PHT" keygen --name alice --out "$tmp/keys"
expect_rc 0 "keygen alice"
for f in alice.sign.key alice.sign.pub alice.seal.key alice.seal.pub; do
  [ -f "$tmp/keys/$f" ]; ok $? "keygen wrote $f"
done
[ "$(mode "$tmp/keys/alice.sign.key")" = 600 ]; ok $? "signing private key mode 0600"
[ "$(mode "$tmp/keys/alice.seal.key")" = 600 ]; ok $? "sealing private key mode 0600"
[ "$(mode "$tmp/keys/alice.sign.pub")" = 644 ]; ok $? "public key mode 0644"
head -1 "$tmp/keys/alice.sign.key" | grep -qx -- '-----BEGIN PRIVATE KEY-----'
ok $? "private key file is PKCS#8 PEM"
openssl pkey -in "$tmp/keys/alice.sign.key" -noout -text 2>/dev/null | grep -q ED25519
ok $? "openssl(1) reads the signing key as ED25519"
openssl pkey -in "$tmp/keys/alice.seal.key" -noout -text 2>/dev/null | grep -q X25519
ok $? "openssl(1) reads the sealing key as X25519"
fp_alice=$(raw_fp "$tmp/keys/alice.sign.pub")
has "$out" "fingerprint: $fp_alice" "keygen prints the SHA-256 of the raw signing public key"

run "$PHT" keygen --name alice --out "$tmp/keys"
expect_rc 2 "keygen refuses to overwrite"
has "$err" "alice.sign.key: exists; refusing to overwrite a key" "  and says which file exists"
run "$PHT" keygen --name ../x --out "$tmp/keys"
expect_rc 2 "keygen refuses a bad name"
has "$err" "bad name '../x'" "  and names it"
run "$PHT" keygen --name x
expect_rc 2 "keygen without --out"
run "$PHT" keygen --name x --out "$tmp/keys" --colour blue
expect_rc 2 "keygen with an unknown option"
has "$err" "unknown option '--colour'" "  names the option"
run "$PHT" keygen --help
expect_rc 0 "keygen --help"
has "$out" "NAME.sign.key" "  documents the file names"
run "$PHT" keygen --name bob --out "$tmp/bob"
expect_rc 0 "keygen bob"
fp_bob=$(raw_fp "$tmp/bob/bob.sign.pub")

# --- train sign and verify ----------------------------------------------------
printf 'return { name = "count" }\n' > "$tmp/count.lua"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/t.env" \
  --datasets reg,labs --stations st-a,st-b --params '{"column":"age"}' --expires 1h --round 3 \
  --name count
expect_rc 0 "train sign"
has "$out" "by $fp_alice" "  reports the signing fingerprint"
payload_of "$tmp/t.env" > "$tmp/t.payload"
id=$(sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' "$tmp/t.payload")
[ ${#id} -eq 32 ]; ok $? "  payload carries a 32-hex-digit train id"
grep -q "\"code_sha256\":\"$(sha256sum < "$tmp/count.lua" | cut -d' ' -f1)\"" "$tmp/t.payload"
ok $? "  payload carries the code's SHA-256"
grep -q "\"result_key\":\"$(raw_b64 "$tmp/keys/alice.seal.pub")\"" "$tmp/t.payload"
ok $? "  result key defaults to alice.seal.pub beside the signing key"

run "$PHT" train verify "$tmp/t.env" --trust "$tmp/keys"
expect_rc 0 "train verify against a trust directory"
has "$out" "verified train $id" "  prints the train id"
has "$out" "signed by: alice ($fp_alice)" "  prints signer name and fingerprint"
has "$out" "round: 3" "  prints the round"
has "$out" "datasets: reg,labs" "  prints the datasets"
has "$out" "stations: st-a,st-b" "  prints the stations"
has "$out" "name: count" "  prints the train name"
run "$PHT" train verify "$tmp/t.env" --trust "$tmp/keys/alice.sign.pub"
expect_rc 0 "train verify against one trusted key file"

run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/t2.env" \
  --result-key "$tmp/bob/bob.seal.pub"
expect_rc 0 "train sign with an explicit --result-key"
grep -q "\"result_key\":\"$(raw_b64 "$tmp/bob/bob.seal.pub")\"" <(payload_of "$tmp/t2.env")
ok $? "  the payload carries that key"

# --- rejections: exit 1 and one line saying why ---------------------------------
run "$PHT" train verify "$tmp/t.env" --trust "$tmp/bob/bob.sign.pub"
expect_rc 1 "untrusted signer rejected"
has "$err" "unknown signer $fp_alice" "  reason: unknown signer"
one_line "$err" "  on one line"

env_text=$(cat "$tmp/t.env")
c=${env_text:40:1}; [ "$c" = A ] && r=B || r=A
printf '%s\n' "${env_text:0:40}$r${env_text:41}" > "$tmp/tampered.env"
run "$PHT" train verify "$tmp/tampered.env" --trust "$tmp/keys"
expect_rc 1 "payload altered after signing rejected"
has "$err" "bad signature from alice ($fp_alice)" "  reason: bad signature"
one_line "$err" "  on one line"

printf '%s\n' "${env_text/$fp_alice/$fp_bob}" > "$tmp/claimed.env"
cp "$tmp/bob/bob.sign.pub" "$tmp/keys/bob.pub"
run "$PHT" train verify "$tmp/claimed.env" --trust "$tmp/keys"
expect_rc 1 "signature claimed by another trusted signer rejected"
has "$err" "bad signature from bob ($fp_bob)" "  reason: bad signature"
rm -f "$tmp/keys/bob.pub"

rk=$(raw_b64 "$tmp/keys/alice.seal.pub")
code='return 1'
sha=$(printf '%s' "$code" | sha256sum | cut -d' ' -f1)
mkpayload() { # issued expires code_sha256 round [extra]
  printf '{"code":"%s","code_sha256":"%s","datasets":[],"expires":"%s","id":"00112233445566778899aabbccddeeff","issued":"%s","params":{},"result_key":"%s","round":%s,"stations":[]%s}' \
    "$code" "$3" "$2" "$1" "$rk" "$4" "${5:-}"
}
sign_payload() { # name payload-text
  printf '%s' "$2" > "$tmp/$1.payload"
  "$SIGN" "$tmp/keys/alice.sign.key" "$tmp/$1.payload" "$tmp/$1.env"
}
now_plus() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

sign_payload good "$(mkpayload "$(now_plus 0)" "$(now_plus 3600)" "$sha" 1)"
run "$PHT" train verify "$tmp/good.env" --trust "$tmp/keys"
expect_rc 0 "a hand-made payload signed by the helper verifies (the helper works)"

sign_payload expired "$(mkpayload 2020-01-01T00:00:00Z 2020-01-01T01:00:00Z "$sha" 1)"
run "$PHT" train verify "$tmp/expired.env" --trust "$tmp/keys"
expect_rc 1 "expired train rejected"
has "$err" "train: expired at 2020-01-01T01:00:00Z" "  reason: expired"
one_line "$err" "  on one line"

sign_payload future "$(mkpayload 2099-01-01T00:00:00Z 2099-01-02T00:00:00Z "$sha" 1)"
run "$PHT" train verify "$tmp/future.env" --trust "$tmp/keys"
expect_rc 1 "train issued in the future rejected"
has "$err" "train: not yet valid: issued at 2099-01-01T00:00:00Z" "  reason: not yet valid"

other=$(printf 'return 2' | sha256sum | cut -d' ' -f1)
sign_payload hash "$(mkpayload "$(now_plus 0)" "$(now_plus 3600)" "$other" 1)"
run "$PHT" train verify "$tmp/hash.env" --trust "$tmp/keys"
expect_rc 1 "code hash mismatch rejected"
has "$err" "train: code hash mismatch: code_sha256 is $other but the code hashes to $sha" \
  "  reason: code hash mismatch"
one_line "$err" "  on one line"

sign_payload round0 "$(mkpayload "$(now_plus 0)" "$(now_plus 3600)" "$sha" 0)"
run "$PHT" train verify "$tmp/round0.env" --trust "$tmp/keys"
expect_rc 1 "round 0 rejected"
has "$err" "train: malformed field round: not between 1 and 1000000" "  reason: malformed field round"

sign_payload badexp "$(mkpayload "$(now_plus 0)" "tomorrow" "$sha" 1)"
run "$PHT" train verify "$tmp/badexp.env" --trust "$tmp/keys"
expect_rc 1 "unparsable expiry rejected"
has "$err" "train: malformed field expires: not an RFC 3339 UTC time" "  reason: malformed field expires"

sign_payload extra "$(mkpayload "$(now_plus 0)" "$(now_plus 3600)" "$sha" 1 ',"sudo":true')"
run "$PHT" train verify "$tmp/extra.env" --trust "$tmp/keys"
expect_rc 1 "unknown payload field rejected"
has "$err" "train: malformed: unknown field sudo" "  reason names the field"

printf 'not an envelope\n' > "$tmp/junk.env"
run "$PHT" train verify "$tmp/junk.env" --trust "$tmp/keys"
expect_rc 1 "non-JSON file rejected"
has "$err" "envelope: malformed JSON: line 1" "  reason: malformed"
printf '{"v":1}\n' > "$tmp/partial.env"
run "$PHT" train verify "$tmp/partial.env" --trust "$tmp/keys"
expect_rc 1 "envelope without payload rejected"
has "$err" "envelope: malformed field payload: missing" "  reason: malformed field payload"

# single flipped bytes through the command (the C test flips every byte)
size=$(stat -c %s "$tmp/t.env")
rejected=0; tried=0; badline=0
for ((pos = 0; pos < size; pos += 9)); do
  flip_byte "$tmp/t.env" "$pos" 1 > "$tmp/flip.env"
  run "$PHT" train verify "$tmp/flip.env" --trust "$tmp/keys"
  tried=$((tried + 1))
  [ "$rc" -eq 1 ] && rejected=$((rejected + 1))
  case "$err" in
    *"bad signature"*|*"unknown signer"*|*malformed*)
      [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
        { badline=$((badline + 1)); diag "flip at $pos: not one line: $err"; } ;;
    *) badline=$((badline + 1)); diag "flip at $pos: $err" ;;
  esac
done
[ "$rejected" -eq "$tried" ]; ok $? "$tried flipped envelopes (every 9th byte) all exit 1"
[ "$badline" -eq 0 ]; ok $? "  each with one line: bad signature / unknown signer / malformed"

# --- usage errors: exit 2 -------------------------------------------------------
run "$PHT" train verify "$tmp/t.env"
expect_rc 2 "verify without --trust"
run "$PHT" train verify --trust "$tmp/keys"
expect_rc 2 "verify without a file"
run "$PHT" train verify "$tmp/missing.env" --trust "$tmp/keys"
expect_rc 2 "verify of a missing file"
has "$err" "missing.env: No such file or directory" "  names the file"
run "$PHT" train verify "$tmp/t.env" --trust "$tmp/nokeys"
expect_rc 2 "verify with a missing trust path"
mkdir "$tmp/emptytrust"
run "$PHT" train verify "$tmp/t.env" --trust "$tmp/emptytrust"
expect_rc 2 "verify with an empty trust directory"
has "$err" "no trusted signing keys" "  says so"
run "$PHT" train
expect_rc 2 "train without a subcommand"
run "$PHT" train launch
expect_rc 2 "train with an unknown subcommand"
run "$PHT" train sign "$tmp/count.lua" --out "$tmp/x.env"
expect_rc 2 "sign without --key"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/x.env" --expires 0h
expect_rc 2 "sign with --expires 0h"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/x.env" --round 0
expect_rc 2 "sign with --round 0"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/x.env" --params '[1]'
expect_rc 2 "sign with --params that is not an object"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/x.env" --params '{'
expect_rc 2 "sign with --params that is not JSON"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/x.env" --datasets a,,b
expect_rc 2 "sign with an empty dataset name"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.seal.key" --out "$tmp/x.env"
expect_rc 2 "sign with the sealing key"
has "$err" "is an X25519 sealing key, an Ed25519 signing key is needed" "  says why"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/keys/alice.sign.pub" --out "$tmp/x.env"
expect_rc 2 "sign with a public key"
mkdir "$tmp/lonely" && cp "$tmp/keys/alice.sign.key" "$tmp/lonely/"
run "$PHT" train sign "$tmp/count.lua" --key "$tmp/lonely/alice.sign.key" --out "$tmp/x.env"
expect_rc 2 "sign without --result-key and no .seal.pub beside the key"
has "$err" "no --result-key given" "  says so"
run "$PHT" train sign "$tmp/missing.lua" --key "$tmp/keys/alice.sign.key" --out "$tmp/x.env"
expect_rc 2 "sign a missing train file"
[ ! -e "$tmp/x.env" ]; ok $? "no envelope written by failed signs"
run "$PHT" train --help
expect_rc 0 "train --help"
has "$out" "pht train verify FILE --trust DIR_OR_FILE" "  shows both forms"
run "$PHT" train sign --help
expect_rc 0 "train sign --help"
run "$PHT" help keygen
expect_rc 0 "pht help keygen"

done_testing
