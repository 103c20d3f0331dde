#!/usr/bin/env bash
# The README's main job, as a user types it: `cargo run -p kantakoe -- rehearse` must pass
# every bundled step and write the results and the (draft) report.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run -q -p kantakoe -- rehearse --out "$out" > "$out/stdout.txt"
grep -q ' steps: .* passed, 0 failed, 0 skipped' "$out/stdout.txt"
for f in results.json junit.xml kayttoonottokoe-raportti-HARJOITUS.eml; do
  [ -s "$out/$f" ] || { echo "quick start: $f was not written" >&2; exit 1; }
done
echo "quick start: $(grep ' steps: ' "$out/stdout.txt")"
