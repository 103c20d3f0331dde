#!/usr/bin/env bash
# Kantakoe in a vendor's CI, the shell steps of both recipes in this folder: builds Kantakoe
# (incrementally, into a cached target directory), makes a test PKI, starts `mock-archive
# serve`, and runs `kantakoe rehearse --sut` against it while your system makes its steps.
# The results land in $KANTAKOE_OUT (junit.xml, results.json, and the report to Kela or the
# findings) for the CI to publish. Kantakoe's own tests run this script with a stand-in system.
#
# Settings (environment variables):
#   KANTAKOE_SUT_COMMAND   required: a shell command that starts your system. It starts once the
#                          rehearsal waits for your system's first step, and is stopped when the
#                          rehearsal ends. It gets KANTAKOE_ARCHIVE_URL (https://localhost:PORT)
#                          and KANTAKOE_PKI, the test PKI directory (pki.toml names each file):
#                          vendor.pem / client.pem with their .key.pem for TLS, signature.pem and
#                          signature.key.pem to sign, ca.pem to trust.
#   KANTAKOE_CASES         test case files, space-separated (default: the bundled suites)
#   KANTAKOE_OUT           results directory (default: out)
#   KANTAKOE_STEP_TIMEOUT  seconds to wait for each of your system's steps (default: rehearse's)
#   KANTAKOE_SRC           Kantakoe's source (default: the checkout this script is in)
#   KANTAKOE_ROOT          where `cargo install` puts the programs (default: $KANTAKOE_SRC/target/ci)
#   KANTAKOE, MOCK_ARCHIVE the programs to use instead of building them
# Exit code: the rehearsal's (0 every step passed, 1 failures, 2 usage or environment error).
set -euo pipefail

fail() { echo "rehearse-sut: $*" >&2; exit 2; }
[ -n "${KANTAKOE_SUT_COMMAND:-}" ] \
  || fail "KANTAKOE_SUT_COMMAND is not set: give the command that starts your system"

src=${KANTAKOE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${KANTAKOE_OUT:-out}

# --- build (cargo install --locked, into a cached target directory) --------------------------
if [ -z "${KANTAKOE:-}" ] || [ -z "${MOCK_ARCHIVE:-}" ]; then
  root=${KANTAKOE_ROOT:-$src/target/ci}
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$src/target}
  echo "rehearse-sut: building Kantakoe into $root"
  cargo install --quiet --locked --path "$src/harness" --root "$root"
  cargo install --quiet --locked --path "$src/mock-archive" --root "$root"
  KANTAKOE=$root/bin/kantakoe
  MOCK_ARCHIVE=$root/bin/mock-archive
fi
echo "rehearse-sut: $("$KANTAKOE" --version), $("$MOCK_ARCHIVE" --version)"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --- the test PKI and the archive --------------------------------------------------------------
"$KANTAKOE" pki init --dir "$work/pki" >/dev/null
setsid "$MOCK_ARCHIVE" serve --pki "$work/pki" --listen 127.0.0.1:0 --db :memory: --view-listen off \
  >"$work/archive.out" 2>"$work/archive.log" &
pids+=($!)
url=
for _ in $(seq 300); do
  # The top-level "url" of {"event":"listening",…}: the message listener's.
  url=$(grep '"event":"listening"' "$work/archive.out" | sed -n 's/^{[^{]*"url":"\([^"]*\)".*/\1/p' || true)
  [ -n "$url" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || fail "mock-archive did not start: $(cat "$work/archive.log")"
echo "rehearse-sut: mock archive at $url"

# --- the rehearsal, and your system once it waits for it ---------------------------------------
args=(rehearse --sut --archive "$url" --pki "$work/pki" --out "$out")
for case in ${KANTAKOE_CASES:-}; do args+=(--case "$case"); done
[ -n "${KANTAKOE_STEP_TIMEOUT:-}" ] && args+=(--step-timeout "$KANTAKOE_STEP_TIMEOUT")
: >"$work/rehearse.log"
"$KANTAKOE" "${args[@]}" >"$work/rehearse.log" 2>&1 &
rehearsal=$!
tail -n +1 -f --pid="$rehearsal" "$work/rehearse.log" &
log_tail=$!
# The rehearsal counts only what arrives after it started: start your system at its first
# instruction (">> case / step: …"), or not at all when no step is your system's.
until grep -q '^>> ' "$work/rehearse.log" || ! kill -0 "$rehearsal" 2>/dev/null; do sleep 0.1; done
if kill -0 "$rehearsal" 2>/dev/null; then
  KANTAKOE_ARCHIVE_URL=$url KANTAKOE_PKI=$work/pki setsid bash -c "$KANTAKOE_SUT_COMMAND" \
    >"$work/sut.log" 2>&1 &
  pids+=($!)
fi
code=0
wait "$rehearsal" || code=$?
wait "$log_tail" || true  # ends with the rehearsal
if [ -s "$work/sut.log" ]; then
  echo "rehearse-sut: your system's output:"
  sed 's/^/  | /' "$work/sut.log"
fi
echo "rehearse-sut: results in $out: $(cd "$out" 2>/dev/null && ls | tr '\n' ' ')"
exit "$code"
