#!/usr/bin/env bash
# Two-server drill (issue 7, item 4): two `cantine serve` processes on one database, the
# clients split across both (each family stays on one server), both expiry tasks racing after
# the clock moves past the holds. Then checks: no reservation expired twice, no invoice issued
# twice for one payment, projections identical to a rebuild from zero, plus every invariant of
# the benchmark. Add --crash-drill to kill both servers mid-run as well.
# Exit status 0 when everything holds, 1 when an invariant fails, 2 on an error.
#
# Usage: scripts/two-server-drill.sh [--families N] [--clients C] [--seed S] ...
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bins
exec target/release/cantine-bench --servers 2 --families 1000 --clients 32 --no-pgbench "$@"
