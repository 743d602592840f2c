#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against its own OpenAPI document, on a private data
# folder and port, traffic to 127.0.0.1 only: every role on the routes it may call. Prints the
# requests sent, the server errors and schemathesis' failures, and exits 1 when any of its
# checks failed (CI runs it bounded, through .ci/run):
# - not_a_server_error: no 5xx;
# - status_code_conformance: every status answered is in the document;
# - content_type_conformance: every answer's type is the documented one (problem+json errors);
# - response_schema_conformance: every body matches its documented schema.
#
#   pip install --no-deps -r scripts/requirements/fuzz.txt   # once, in a virtualenv: ST=/path/to/st
#   bash scripts/fuzz.sh [max examples per operation, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
ST=${ST:-st}
EXAMPLES=${1:-30}
CHECKS=${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}
PORT=${FUZZ_PORT:-18080}
DATA=${FUZZ_DATA:-/tmp/cantine-fuzz-data}
REPORT=${FUZZ_REPORT:-/tmp/cantine-fuzz-report}
BASE=http://127.0.0.1:$PORT
# The demo's first town; its host name is sent in `Host` (curl resolves `*.localhost` itself,
# Python does not).
TOWN=camargue.localhost:$PORT
rm -rf "$DATA" "$REPORT"
mkdir -p "$REPORT"

cargo build --quiet --bin cantine
CANTINE_DATA=$DATA CANTINE_LISTEN=127.0.0.1:$PORT CANTINE_CLOCK=2017-01-11T13:38:00Z \
  RUST_LOG=warn target/debug/cantine serve >"$REPORT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.5; done

token() {
  curl -sf "$BASE/api/v1/auth/login" -H "Host: $TOWN" -H 'content-type: application/json' \
    -d "{\"login\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

run() { # name, token, extra options...
  local name=$1 token=$2; shift 2
  # One worker: hypothesis parses lambdas' source with `ast` while generating, and CPython 3.11's
  # parser fails at random ("AST constructor recursion depth mismatch") when two threads do it.
  "$ST" run "$BASE/api/v1/openapi.json" --url "$BASE" \
    -H "Authorization: Bearer $token" -H "Host: $TOWN" \
    --checks "$CHECKS" --max-examples "$EXAMPLES" --seed 6 --no-color \
    --workers 1 --request-timeout 10 --generation-database none \
    --report har --report-har-path "$REPORT/$name.har" "$@" >"$REPORT/$name.txt" 2>&1 && status=0 || status=$?
  python3 - "$REPORT/$name.har" "$name" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))["log"]["entries"]
errors = [e for e in entries if e["response"]["status"] >= 500]
print(f"{sys.argv[2]}: {len(entries)} requests, {len(errors)} server errors")
for e in errors[:20]:
    print("   ", e["response"]["status"], e["request"]["method"], e["request"]["url"])
PY
  if [ "$status" -ne 0 ]; then
    # schemathesis exits 1 on a failed check; its summary says which, the report how.
    echo "$name: schemathesis failed (exit $status), from $REPORT/$name.txt:"
    sed -n '/^=* FAILURES =*$/,$p' "$REPORT/$name.txt" | head -80
    FAILED=1
  fi
}
FAILED=0

# Each role on the routes it may call, plus everyone on the public ones. The clock (it can move a
# year, past every session) and the routes that end sessions run last.
LAST='^/api/v1/(auth/logout|account/password|admin/clock)$'
run public "not-a-token" --include-tag auth --include-tag operations --exclude-path-regex "$LAST"
run family "$(token famille.dupont@example.fr cantine-dupont)" \
  --include-tag family --include-tag reservations --include-tag payments --include-tag account \
  --exclude-path-regex "$LAST"
run admin "$(token admin cantine-admin)" --include-tag admin --include-tag audit --include-tag account \
  --include-tag documents --exclude-path-regex "$LAST"
run kitchen "$(token cuisine cantine-cuisine)" --include-tag kitchen --exclude-path-regex "$LAST"
run finance "$(token finances cantine-finances)" --include-tag finance --include-tag admin \
  --exclude-path-regex "$LAST"
run auditor "$(token audit cantine-audit)" --include-tag audit --include-tag admin --exclude-path-regex "$LAST"
run last "$(token finances cantine-finances)" --include-path-regex "$LAST"
echo "server log: $REPORT/server.log; reports: $REPORT"
grep -c ' ERROR ' "$REPORT/server.log" | sed 's/^/server log ERROR lines: /' || true
exit $FAILED
