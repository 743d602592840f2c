#!/usr/bin/env bash
# Crash drill (issue 7, item 3): runs the opening-day workload, kills the server with SIGKILL
# mid-run (twice by default), restarts it on the same database with the clock where it was,
# finishes the workload, then checks:
#   - every command the clients saw succeed is in the event log (ids recorded client-side);
#   - no place is held by an expired reservation, none expired twice;
#   - every paid reservation has its invoice, no succeeded payment left without one;
#   - projections equal a rebuild from zero;
#   - `cantine audit verify` when the server has that subcommand (issue 3); until then the
#     equivalent invariants above are checked in SQL against the event log.
# Exit status 0 when everything holds, 1 when an invariant fails, 2 on an error.
#
# Usage: scripts/crash-drill.sh [--families N] [--clients C] [--kills K] [--seed S] ...
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bins
exec target/release/cantine-bench --crash-drill --families 1000 --clients 32 --no-pgbench "$@"
