#!/usr/bin/env bash
# A demo month for finance: starts the service on the first guide's afternoon (11 January 2017)
# with the demo data, plays a few families' bookings, payments (one payment for two children,
# one spending a credit, one arriving after expiry, one declined, one for a reservation
# cancelled meanwhile), a cancellation of paid days, then prints January's CSV exports and the
# reconciliation report.
#
#   scripts/demo-month.sh                 # uses target/release/cantine, else target/debug/cantine
#   CANTINE_BIN=path/to/cantine scripts/demo-month.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${CANTINE_BIN:-}
if [[ -z "$BIN" ]]; then
  if [[ -x target/release/cantine ]]; then BIN=target/release/cantine; else BIN=target/debug/cantine; fi
fi
[[ -x "$BIN" ]] || { echo "build the service first (cargo build)" >&2; exit 1; }

PORT=${PORT:-18080}
DATA=$(mktemp -d /tmp/cantine-demo-month.XXXXXX)
# Under root, the private cluster runs as `postgres`, which must reach its folder.
chmod o+x "$DATA"
export CANTINE_DATA=$DATA CANTINE_LISTEN=127.0.0.1:$PORT CANTINE_CLOCK=2017-01-11T13:38:00Z
"$BIN" serve >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
# The demo's first town, on its host name (curl resolves `*.localhost` to this machine).
BASE=http://camargue.localhost:$PORT
API=$BASE/api/v1
# The first start initialises a private PostgreSQL cluster and loads the demo: wait for the logins.
for _ in $(seq 300); do grep -q "famille.dupont" "$DATA/serve.log" 2>/dev/null && break; sleep 0.2; done
curl -sf "$BASE/health" >/dev/null || { cat "$DATA/serve.log" >&2; exit 1; }

login() { curl -sf "$API/auth/login" -H 'content-type: application/json' \
            -d "{\"login\":\"$1\",\"password\":\"$2\"}" | jq -r .token; }
call() { local token=$1 method=$2 path=$3; shift 3
         curl -sf -X "$method" "$API$path" -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
DUPONT=$(login famille.dupont@example.fr cantine-dupont)
MARTIN=$(login famille.martin@example.fr cantine-martin)
ADMIN=$(login admin cantine-admin)
FINANCE=$(login finances cantine-finances)

child() { call "$1" GET /family | jq -r ".children[] | select(.first_name==\"$2\") | .id"; }
REPAUSSET=$(call "$DUPONT" GET /establishments \
  | jq -r '.[] | select(.name=="Restaurant Scolaire Le Repausset") | .periods[0].id')
TABARLY=$(call "$DUPONT" GET /establishments \
  | jq -r '.[] | select(.name=="Restaurant Scolaire Eric Tabarly") | .periods[0].id')
HERVE=$(child "$DUPONT" Hervé); LEA=$(child "$DUPONT" Léa); INES=$(child "$MARTIN" Inès)

book() { # token child period days… → reservation id, confirmed
  local token=$1 child=$2 period=$3; shift 3
  local days; days=$(printf '"%s",' "$@"); days="[${days%,}]"
  local id; id=$(call "$token" POST /reservations -d "{\"child_id\":\"$child\",\"period_id\":\"$period\",\"days\":$days}" | jq -r .id)
  call "$token" POST "/reservations/$id/confirm" >/dev/null
  echo "$id"
}
start_payment() { local token=$1; shift; local ids; ids=$(printf '"%s",' "$@")
  call "$token" POST /payments -d "{\"reservation_ids\":[${ids%,}]}"; }
simulator() { # payment json, outcome: the payer's choice on the simulator's page
  curl -sf -X POST "$(jq -r .redirect_url <<<"$1")" -d "outcome=$2" >/dev/null; }

# DUPONT: one payment for both children (16.60 + 8.30), then 31 January cancelled (credit 4.15),
# then Léa's next week paid with that credit and 4.15 by card.
H1=$(book "$DUPONT" "$HERVE" "$REPAUSSET" 2017-01-23 2017-01-24 2017-01-27 2017-01-31)
L1=$(book "$DUPONT" "$LEA" "$REPAUSSET" 2017-01-23 2017-01-24)
simulator "$(start_payment "$DUPONT" "$H1" "$L1")" succeeded
call "$DUPONT" POST "/reservations/$H1/cancel" -d '{"days":["2017-01-31"]}' >/dev/null
L2=$(book "$DUPONT" "$LEA" "$REPAUSSET" 2017-01-26 2017-01-27)
simulator "$(start_payment "$DUPONT" "$L2")" succeeded

# MARTIN: a declined card, then a payment that arrives after the hold expired (places still
# free: taken again), and one for a reservation cancelled while the payment was pending (refund).
M1=$(book "$MARTIN" "$INES" "$TABARLY" 2017-01-23 2017-01-24 2017-01-26)
simulator "$(start_payment "$MARTIN" "$M1")" failed
LATE=$(start_payment "$MARTIN" "$M1")
M2=$(book "$MARTIN" "$INES" "$TABARLY" 2017-01-30)
GONE=$(start_payment "$MARTIN" "$M2")
call "$MARTIN" POST "/reservations/$M2/cancel" >/dev/null
call "$ADMIN" POST /admin/clock -d '{"advance_minutes": 61}' >/dev/null
for _ in $(seq 50); do
  [[ $(call "$MARTIN" GET "/reservations/$M1" | jq -r .status) == expired ]] && break; sleep 0.2
done
simulator "$LATE" succeeded
simulator "$GONE" succeeded

show() { echo; echo "== $1"; }
show "GET /api/v1/ledger (DUPONT)"; call "$DUPONT" GET /ledger | jq -c '{balance, credit}, (.entries[] | [.kind, .reference, .restaurant, .amount, .balance])'
show "GET /api/v1/ledger (MARTIN)"; call "$MARTIN" GET /ledger | jq -c '{balance, credit}, (.entries[] | [.kind, .reference, .restaurant, .amount, .balance])'
for doc in invoices credit-notes payments refunds; do
  show "GET /api/v1/finance/exports/$doc?month=2017-01"
  call "$FINANCE" GET "/finance/exports/$doc?month=2017-01"
done
show "GET /api/v1/finance/exports/payments?month=2017-01&format=fr"
call "$FINANCE" GET "/finance/exports/payments?month=2017-01&format=fr"
show "GET /api/v1/finance/reconciliation?month=2017-01 (Accept: text/csv)"
call "$FINANCE" GET "/finance/reconciliation?month=2017-01" -H 'accept: text/csv'
show "GET /api/v1/finance/reconciliation?month=2017-01"
call "$FINANCE" GET "/finance/reconciliation?month=2017-01" | jq -c '{balanced, checks: [.checks[] | [.column, .ledger, .source, .holds]]}'
