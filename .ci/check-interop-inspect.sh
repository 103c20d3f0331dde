#!/usr/bin/env bash
# `kantakoe inspect` must read both HUS interop messages completely: ids, setId, version,
# RPLC parent (for the replacement), the MIME part and the signature block.
set -euo pipefail
KANTAKOE=${KANTAKOE:-target/debug/kantakoe}
SHARED=${SHARED:-../shared}
fail=0
for f in RCMR_IN100002FI01.xml RCMR_IN100016FI01.xml; do
  # Exit 1 is expected: the archive's own checks refuse a patient-archive message (R6),
  # asserted below; anything else (2: unreadable) is a failure.
  rc=0
  "$KANTAKOE" inspect --json "$SHARED/interop/$f" > "/tmp/kantakoe-inspect-$f.json" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "FAIL: kantakoe inspect $f did not read it completely (exit $rc)"; fail=1; continue
  fi
  if python3 - "$f" "/tmp/kantakoe-inspect-$f.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
assert d["complete"] is True and d["problems"] == [], d["problems"]
assert [c["code"] for c in d["archive_checks"]] == ["R6-WRONG-REPOSITORY"], d["archive_checks"]
m = d["read"]["Message"] if "Message" in d["read"] else d["read"]
doc, cda = m["document"], m["cda"]
assert m["id"]["root"] and doc["id"]["root"] and doc["set_id"]["root"], "ids"
assert doc["version_number"] >= 1 and m["mime"]["content_id"], "version/MIME"
assert cda["signature"]["reference_uris"] and cda["signature"]["has_signature_value"], "signature"
if name == "RCMR_IN100016FI01.xml":
    assert doc["version_number"] == 2 and doc["replaces"]["id"]["root"], "RPLC parent"
print(f"ok: {name}: id {m['id']['root']}, set {doc['set_id']['root']}, version {doc['version_number']}, signature refs {len(cda['signature']['reference_uris'])}")
PY
  then :; else echo "FAIL: $f read but fields missing"; fail=1; fi
done
exit $fail
